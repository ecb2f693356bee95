using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>The install form's database choice; the page passes the plan (<see cref="AppDatabase.Plan"/>) and installs with the choice.</summary>
public partial class AppDatabaseChoiceField
{
    [Parameter, EditorRequired] public CatalogApp Definition { get; set; } = default!;

    /// <summary>The workspace database plan for this app, or null when it cannot use one (see <see cref="Unavailable"/>).</summary>
    [Parameter] public AppDatabasePlan? Plan { get; set; }
    [Parameter] public string? Unavailable { get; set; }
    [Parameter] public AppDatabaseChoice Choice { get; set; }
    [Parameter] public EventCallback<AppDatabaseChoice> ChoiceChanged { get; set; }
    [Parameter] public bool Disabled { get; set; }
    [Parameter] public string? Error { get; set; }

    /// <summary>The password field's label as the form shows it (its schema title), else its path.</summary>
    private string PasswordLabel => Plan is null ? "" : AppForm.For(Definition, Definition.Defaults).AllFields
        .FirstOrDefault(f => f.Path == Plan.PasswordPath)?.Label ?? Plan.PasswordPath;

    private Task ChooseAsync(AppDatabaseChoice choice)
    {
        Choice = choice;
        return ChoiceChanged.InvokeAsync(choice);
    }
}

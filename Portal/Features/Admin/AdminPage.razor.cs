using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Admin;

/// <summary>The platform admins' start page: a few figures and the way to each console.</summary>
public partial class AdminPage
{
    [Inject] private AdminOverviewQueries Overview { get; set; } = default!;

    private AdminOverview? overview;

    protected override async Task OnInitializedAsync() => overview = await Overview.GetAsync(Aborted);
}

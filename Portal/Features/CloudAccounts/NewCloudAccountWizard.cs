using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>
/// The "connect a cloud account" wizard without its page: which provider, then which account. Each step
/// is checked with <see cref="CloudAccountRules"/> before the next opens; the Portal checks everything
/// again when the account is created.
/// </summary>
public sealed class NewCloudAccountWizard
{
    public const int ProviderStep = 0;
    public const int AccountStep = 1;

    public static readonly IReadOnlyList<string> StepTitles = ["Provider", "Account"];

    public int Step { get; private set; }
    public CloudProvider Provider { get; set; } = CloudProvider.Aws;
    public string? Name { get; set; }
    public string? AccountRef { get; set; }
    public FieldErrors Errors { get; set; } = new();

    public bool IsLastStep => Step == AccountStep;

    /// <summary>The sandbox has no account of its own to name: the Portal makes one up.</summary>
    public bool NeedsAccountRef => Provider != CloudProvider.Sandbox;

    public string AccountRefLabel => Provider == CloudProvider.Aws ? "AWS account ID (12 digits)" : "AliCloud account UID";

    /// <summary>Only steps already reached can be opened again; later ones open through Next.</summary>
    public bool CanVisit(int step) => step >= 0 && step <= Step;

    public bool Visit(int step)
    {
        if (!CanVisit(step)) return false;
        Step = step;
        Errors = new FieldErrors();
        return true;
    }

    /// <summary>Checks the open step's fields; moves on only when they pass.</summary>
    public bool Next()
    {
        Errors = CheckStep(Step);
        if (!Errors.IsEmpty || IsLastStep) return false;
        Step++;
        return true;
    }

    public bool Back() => Visit(Step - 1);

    /// <summary>The last step's fields, checked before anything is sent.</summary>
    public bool IsReadyToConnect()
    {
        Errors = CheckStep(AccountStep);
        return Errors.IsEmpty;
    }

    public NewCloudAccount Request() => new(Provider, Name?.Trim(), NeedsAccountRef ? AccountRef?.Trim() : null);

    private FieldErrors CheckStep(int step)
    {
        var errors = new FieldErrors();
        if (step == AccountStep)
        {
            CloudAccountRules.CheckName(errors, Name);
            if (NeedsAccountRef) CloudAccountRules.CheckAccountRef(errors, Provider, AccountRef);
        }
        return errors;
    }
}

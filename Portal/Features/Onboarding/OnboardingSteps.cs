namespace Cogrion.Portal.Features.Onboarding;

/// <summary>The wizard's steps in order, and where a person's progress puts them.</summary>
public sealed class OnboardingSteps(IEnumerable<IOnboardingStep> steps)
{
    public IReadOnlyList<IOnboardingStep> Ordered { get; } = steps.OrderBy(s => s.Order).ThenBy(s => s.Key, StringComparer.Ordinal).ToList();

    /// <summary>The first step not yet completed, or -1 when every step is done.</summary>
    public int CurrentIndex(OnboardingProgress progress)
    {
        for (var i = 0; i < Ordered.Count; i++)
            if (!progress.HasCompleted(Ordered[i].Key)) return i;
        return -1;
    }

    /// <summary>
    /// A person may revisit completed steps, except those before the tenant was created once it
    /// exists: from then on its name and domain change in the tenant's settings, not here.
    /// </summary>
    public bool CanVisit(OnboardingProgress progress, int index)
    {
        var current = CurrentIndex(progress);
        if (current >= 0 && index > current) return false;
        return progress.TenantId is null || Ordered[index].NeedsTenant;
    }
}

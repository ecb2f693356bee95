namespace Cogrion.Portal.Features.Onboarding;

/// <summary>
/// One step of the onboarding wizard. The wizard is the ordered list of every registered step
/// (<see cref="OnboardingServiceCollectionExtensions.AddOnboardingStep{TStep}"/>); a later feature
/// adds "connect a cloud account" by registering a step with a higher <see cref="Order"/>, and
/// people who finished the earlier steps resume at the new one.
/// </summary>
public interface IOnboardingStep
{
    /// <summary>Stable name, stored in <c>onboarding_progress.completed_steps</c>: never rename a shipped key.</summary>
    string Key { get; }

    /// <summary>Position in the sequence. Leave gaps (100, 200, ...) so later steps slot in between.</summary>
    int Order { get; }

    /// <summary>The step's label in the wizard's header.</summary>
    string Title { get; }

    /// <summary>
    /// The component that renders the step. It receives one parameter, <c>Step</c>, an
    /// <see cref="OnboardingStepContext"/>, and calls <see cref="OnboardingStepContext.CompleteAsync"/> when done.
    /// </summary>
    Type Component { get; }

    /// <summary>True for steps that work inside the tenant the wizard created (they come after its creation).</summary>
    bool NeedsTenant { get; }
}

/// <summary>The answers given so far, kept between visits so the wizard resumes where the person left off.</summary>
public sealed record OnboardingDraft(string? Name = null, string? Slug = null, string? Domain = null, bool DomainEdited = false);

/// <summary>A person's progress through the wizard.</summary>
public sealed record OnboardingProgress(Guid UserId, Guid? TenantId, string? TenantSlug, OnboardingDraft Draft, IReadOnlyList<string> CompletedSteps)
{
    public bool HasCompleted(string stepKey) => CompletedSteps.Contains(stepKey, StringComparer.Ordinal);

    public static OnboardingProgress Start(Guid userId) => new(userId, null, null, new OnboardingDraft(), []);
}

/// <summary>What a step component gets: the progress so far and the ways to move on.</summary>
public sealed class OnboardingStepContext(
    OnboardingProgress progress,
    Func<OnboardingDraft, Task> saveDraft,
    Func<Task> complete,
    Func<Task> back)
{
    public OnboardingProgress Progress { get; } = progress;

    /// <summary>Keeps the answers without finishing the step (what the person typed survives a reload).</summary>
    public Task SaveDraftAsync(OnboardingDraft draft) => saveDraft(draft);

    /// <summary>Marks the step done and moves the wizard to the next one.</summary>
    public Task CompleteAsync() => complete();

    /// <summary>Goes back to the previous step (only before the tenant exists).</summary>
    public Task BackAsync() => back();
}

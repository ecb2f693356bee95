using Cogrion.Jobs;
using Cogrion.Portal.Components.Controls;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Jobs;

/// <summary>A job's state as a chip with the state's own word, so colour is never the only signal.</summary>
public static class JobStateBadge
{
    public static RenderFragment Render(string state, string label = "Job state") => StatusChip.Render(state, state switch
    {
        JobStates.Queued => StatusTone.Info,
        JobStates.Running => StatusTone.Progress,
        JobStates.Succeeded => StatusTone.Success,
        JobStates.Failed => StatusTone.Error,
        _ => StatusTone.Neutral,
    }, label);
}

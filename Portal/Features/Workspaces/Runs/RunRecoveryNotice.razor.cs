using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces.Runs;

/// <summary>What the page says about a run whose worker stopped: while it is cleaned up, and after (ADR 0061).</summary>
public partial class RunRecoveryNotice
{
    [Parameter, EditorRequired] public WorkspaceRun Run { get; set; } = default!;
}

using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Features.Workspaces.Apps;

/// <summary>The queued commands of one app; the page does the cancelling (<see cref="WorkspaceApps.CancelQueuedAsync"/>).</summary>
public partial class QueuedAppCommands
{
    [Parameter, EditorRequired] public IReadOnlyList<QueuedAppCommand> Commands { get; set; } = [];

    /// <summary>Operators of the tenant (not a platform admin looking in) may cancel.</summary>
    [Parameter] public bool CanOperate { get; set; }
    [Parameter] public bool Busy { get; set; }
    [Parameter] public DateTimeOffset Now { get; set; }
    [Parameter] public EventCallback<QueuedAppCommand> OnCancel { get; set; }
}

/// <summary>The words the queued list uses, testable without rendering.</summary>
public static class QueuedText
{
    public static string Expiry(QueuedAppCommand command, DateTimeOffset now) => command.ExpiresAt <= now
        ? $"expired {command.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC"
        : $"{command.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC (in {Remaining(command.ExpiresAt - now)})";

    public static string State(QueuedAppCommand command) => command.State switch
    {
        QueuedCommandState.Delivered => $"Delivered to the agent at {command.DeliveredAt:yyyy-MM-dd HH:mm:ss} UTC",
        QueuedCommandState.Expired => "Expired, never reached the agent",
        _ => "Waiting for the agent",
    };

    private static string Remaining(TimeSpan left) => left.TotalHours >= 1
        ? $"{(int)left.TotalHours} h {left.Minutes} min"
        : left.TotalMinutes >= 1 ? $"{(int)left.TotalMinutes} min" : "less than a minute";
}

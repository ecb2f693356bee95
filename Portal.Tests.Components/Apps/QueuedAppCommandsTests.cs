using Cogrion.Portal.Features.Workspaces.Apps;

namespace Cogrion.Portal.Tests.Components.Apps;

/// <summary>
/// The app page's queued list: what each command does, when and by whom it was queued, when it expires, its state, and Cancel
/// only for operators and only while the agent has not taken it (an expired one can be withdrawn).
/// </summary>
public sealed class QueuedAppCommandsTests : PortalTestContext
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static readonly QueuedAppCommand Waiting = new(Guid.NewGuid(), "manifest.apply", QueuedAppAction.Upgrade,
        "Upgrade: release revision 2 (chart 1.7.3)", Now.AddMinutes(-5), "ada", Now.AddHours(23).AddMinutes(55), null, QueuedCommandState.Waiting);
    private static readonly QueuedAppCommand Delivered = new(Guid.NewGuid(), "namespace.delete", QueuedAppAction.Remove,
        "Remove: delete namespace mlflow and everything in it", Now.AddMinutes(-3), "bob", Now.AddDays(1), Now.AddMinutes(-1),
        QueuedCommandState.Delivered);
    private static readonly QueuedAppCommand Expired = new(Guid.NewGuid(), "namespace.ensure", QueuedAppAction.Install,
        "Install: create namespace airflow (quota, network policy, Pod Security)", Now.AddDays(-2), "cy", Now.AddDays(-1), null,
        QueuedCommandState.Expired);
    private static readonly QueuedAppCommand Secret = new(Guid.NewGuid(), "secret.apply", QueuedAppAction.Secret,
        "Write Secret mlflow-password (a sealed value) in namespace mlflow", Now.AddMinutes(-5), "ada", Now.AddHours(1), null,
        QueuedCommandState.Waiting);

    [Fact]
    public void Operators_see_each_queued_command_with_its_expiry_and_cancel_only_what_the_agent_has_not_taken()
    {
        QueuedAppCommand? cancelled = null;
        var list = Render<QueuedAppCommands>(p => p
            .Add(c => c.Commands, [Waiting, Delivered, Expired, Secret])
            .Add(c => c.CanOperate, true)
            .Add(c => c.Now, Now)
            .Add(c => c.OnCancel, (QueuedAppCommand c) => cancelled = c));

        var rows = list.FindAll("tbody tr");
        Assert.Equal(4, rows.Count);
        Assert.Contains("Upgrade: release revision 2 (chart 1.7.3)", rows[0].TextContent);
        Assert.Contains("ada", rows[0].TextContent);
        Assert.Contains("(in 23 h 55 min)", rows[0].TextContent);
        Assert.Contains("Waiting for the agent", rows[0].TextContent);
        Assert.Contains("it can no longer be cancelled", rows[1].TextContent);
        Assert.Empty(rows[1].QuerySelectorAll("button"));
        Assert.Contains("Expired, never reached the agent", rows[2].TextContent);
        Assert.Equal("Withdraw", rows[2].QuerySelector("button")!.TextContent.Trim());
        Assert.Empty(rows[3].QuerySelectorAll("button"));

        var cancel = rows[0].QuerySelector("button")!;
        Assert.Equal("Cancel: Upgrade: release revision 2 (chart 1.7.3)", cancel.GetAttribute("aria-label"));
        cancel.Click();
        Assert.Equal(Waiting.Id, cancelled?.Id);
    }

    [Fact]
    public void A_viewer_sees_the_queue_without_any_cancel_button_and_an_empty_queue_shows_nothing()
    {
        var list = Render<QueuedAppCommands>(p => p
            .Add(c => c.Commands, [Waiting, Expired])
            .Add(c => c.CanOperate, false)
            .Add(c => c.Now, Now));
        Assert.Equal(2, list.FindAll("tbody tr").Count);
        Assert.Empty(list.FindAll("button"));

        var empty = Render<QueuedAppCommands>(p => p.Add(c => c.Commands, []).Add(c => c.CanOperate, true).Add(c => c.Now, Now));
        Assert.Empty(empty.FindAll("table"));
    }
}

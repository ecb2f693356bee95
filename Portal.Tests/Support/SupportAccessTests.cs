using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Support;
using Cogrion.Portal.Tests.Agents;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Support;

/// <summary>
/// Support access end to end with the real Portal, the real agent binary in a simulated cluster and real PostgreSQL:
/// the agent pins the tenant's approver keys, records only grants whose passkey signature it verified itself, runs
/// support reads inside the grant's window and scope by its own clock, and refuses the rest, including what a
/// compromised Portal sends straight into its queue.
/// </summary>
public sealed class SupportAccessTests
{
    [Fact]
    public async Task An_approved_grant_allows_status_refuses_logs_and_forged_or_self_approvals_and_ends_when_revoked()
    {
        await using var world = await SupportScenario.StartAsync();
        var requests = world.Get<SupportRequests>();

        // The requester cannot approve their own request: the Portal says so, and so does the agent when the Portal is bypassed.
        var own = await world.RequestAsync(requester: world.Approver);
        Assert.NotNull(requests.ApprovalRefusal(own, world.Approver));
        var ownGrant = requests.ProposeGrant(own);
        var refusedByPortal = await requests.ApproveAsync(world.TenantId, own.Id, ownGrant, world.Passkey.Sign(ownGrant.Challenge()), world.Approver,
            world.ApproverActor, default);
        Assert.True(refusedByPortal.Errors.Has("approval"));
        await world.Get<SupportApprovers>().SendToAgentAsync(world.TenantId, world.Scenario.AgentId, world.ApproverActor, default);
        var selfApproved = await world.BypassAsync(CommandTypes.SupportGrant, SupportScenario.GrantPayload(ownGrant,
            world.Passkey.Sign(ownGrant.Challenge())));
        Assert.Equal(CommandOutcomes.Rejected, selfApproved.Status);
        Assert.Contains("cannot approve their own request", selfApproved.ResultMessage);

        // Approved with the tenant admin's passkey: the agent verifies the signature itself and records the grant.
        var request = await world.RequestAsync();
        var granted = await world.ApproveAsync(request);
        Assert.Equal(GrantDelivery.Recorded, granted.Grant);
        Assert.True(granted.IsActiveAt(DateTimeOffset.UtcNow));

        // Status: allowed, with pods and events of the app namespace; a description without environment values.
        var list = await world.AskAsync(request.Id, new SupportQuestion(SupportActions.List));
        Assert.Equal(SupportActionOutcome.Allowed, list.Outcome);
        var answer = await world.Get<SupportSessions>().AnswerAsync(world.Requester, list, default);
        var listing = SupportListing.From(answer!);
        Assert.Contains(listing.Pods, p => p.Namespace == SupportScenario.Namespace && p.Name == SupportScenario.Pod);
        await Eventually.ValueAsync(async () => SupportListing.From((await world.Get<SupportSessions>().AnswerAsync(world.Requester,
                await world.AskAsync(request.Id, new SupportQuestion(SupportActions.List)), default))!),
            l => l.Events.Any(e => e.Object == $"Pod/{SupportScenario.Pod}" && e.Reason == "Started"), "the kubelet's events to be listed");
        var describe = await world.AskAsync(request.Id, new SupportQuestion(SupportActions.Describe, SupportScenario.Namespace, "Pod",
            SupportScenario.Pod));
        Assert.Equal(SupportActionOutcome.Allowed, describe.Outcome);
        var described = (await world.Get<SupportSessions>().AnswerAsync(world.Requester, describe, default))!.ToJsonString();
        Assert.Contains("DB_PASSWORD", described);
        Assert.DoesNotContain("literal-canary", described);
        // The description was read as the read-only support identity, which the cluster itself keeps away from Secrets and ConfigMaps.
        var reads = world.Scenario.Agent.Cluster.Api.Audit.Where(e
            => e.Path.EndsWith($"/namespaces/{SupportScenario.Namespace}/pods/{SupportScenario.Pod}", StringComparison.Ordinal))
            .Select(e => (e.User, e.ImpersonatedBy)).Distinct().ToList();
        Assert.Equal([(AgentInstall.SupportReaderUser, $"system:serviceaccount:{AgentInstall.Namespace}:{AgentInstall.ServiceAccount}")], reads);

        // Logs are outside a "status" grant: the Portal refuses, and the agent refuses when the Portal is bypassed.
        var logs = await world.AskAsync(request.Id, new SupportQuestion(SupportActions.Logs, SupportScenario.Namespace, null, SupportScenario.Pod));
        Assert.Equal(SupportActionOutcome.Refused, logs.Outcome);
        var bypassedLogs = await world.BypassAsync(CommandTypes.SupportAction, SupportScenario.Action(request.Id, SupportActions.Logs,
            SupportScenario.Pod));
        Assert.Equal(CommandOutcomes.Rejected, bypassedLogs.Status);
        Assert.Contains("outside the grant's scope 'status'", bypassedLogs.ResultMessage);
        // A Secret is not a kind a support session can name.
        var describeSecret = SupportScenario.Action(request.Id, SupportActions.Describe, "db");
        describeSecret["kind"] = "Secret";
        var secret = await world.BypassAsync(CommandTypes.SupportAction, describeSecret);
        Assert.Equal(CommandOutcomes.Rejected, secret.Status);

        // Forged approvals for another request: an unpinned key, and a pinned credential id with someone else's signature.
        var other = await world.RequestAsync(SupportScope.StatusAndLogs);
        var otherGrant = requests.ProposeGrant(other);
        using var stranger = new SoftwarePasskey(SupportScenario.RpId, SupportScenario.Origin);
        var unpinned = await world.BypassAsync(CommandTypes.SupportGrant, SupportScenario.GrantPayload(otherGrant,
            stranger.Sign(otherGrant.Challenge())));
        Assert.Equal(CommandOutcomes.Rejected, unpinned.Status);
        Assert.Contains("not a pinned approver", unpinned.ResultMessage);
        var forged = await world.BypassAsync(CommandTypes.SupportGrant, SupportScenario.GrantPayload(otherGrant,
            stranger.Sign(otherGrant.Challenge(), asCredentialId: world.Passkey.CredentialId)));
        Assert.Equal(CommandOutcomes.Rejected, forged.Status);
        Assert.Contains("does not verify", forged.ResultMessage);
        // A genuine signature over a grant the Portal then widens (a longer window) no longer matches the challenge.
        var widened = otherGrant with { NotAfter = otherGrant.NotAfter + 3600 };
        var stretched = await world.BypassAsync(CommandTypes.SupportGrant, SupportScenario.GrantPayload(widened,
            world.Passkey.Sign(otherGrant.Challenge())));
        Assert.Equal(CommandOutcomes.Rejected, stretched.Status);
        Assert.Contains("not this grant's", stretched.ResultMessage);
        // And the Portal alone cannot add an approver: a new set without an endorsement is refused by the agent.
        var pinned = (await world.Get<SupportApprovers>().PublishedAsync(world.TenantId, default))!;
        var grown = pinned with
        {
            Version = pinned.Version + 1,
            Approvers = [.. pinned.Approvers, new SupportApprover(stranger.CredentialId, stranger.PublicKey, Guid.NewGuid(), "mallory")]
        };
        var added = await world.BypassAsync(CommandTypes.SupportApprovers, System.Text.Json.JsonSerializer.SerializeToNode(
            new SupportApproversPayload(grown, null), ProtocolJson.Default.SupportApproversPayload)!.AsObject());
        Assert.Equal(CommandOutcomes.Rejected, added.Status);
        Assert.Contains("not endorsed by a pinned approver", added.ResultMessage);

        // A genuine status+logs grant reads the last lines of the container's log through pods/log.
        Assert.Equal(GrantDelivery.Recorded, (await world.ApproveAsync(other)).Grant);
        var tail = await world.AskAsync(other.Id, new SupportQuestion(SupportActions.Logs, SupportScenario.Namespace, null, SupportScenario.Pod,
            "web", 5));
        Assert.Equal(SupportActionOutcome.Allowed, tail.Outcome);
        var lines = (await world.Get<SupportSessions>().AnswerAsync(world.Requester, tail, default))!["lines"]!.AsArray();
        Assert.InRange(lines.Count, 1, 5);
        Assert.All(lines, l => Assert.StartsWith("cogrion-agent ", l!.GetValue<string>()));
        var wrongContainer = await world.AskAsync(other.Id, new SupportQuestion(SupportActions.Logs, SupportScenario.Namespace, null,
            SupportScenario.Pod, "sidecar", 5));
        Assert.Equal(SupportActionOutcome.Failed, wrongContainer.Outcome);
        Assert.Contains("not valid for pod", wrongContainer.Message);

        // Revoke: the agent ends the grant; what support read is deleted; a later action is refused even when the Portal is bypassed.
        Assert.True((await requests.RevokeAsync(world.TenantId, request.Id, world.ApproverActor, default)).Succeeded);
        await Eventually.ValueAsync(world.AuditActionsAsync, a => a.Contains("support.ended_by_agent"), "the agent to end the grant");
        var afterRevoke = await world.BypassAsync(CommandTypes.SupportAction, SupportScenario.Action(request.Id, SupportActions.List));
        Assert.Equal(CommandOutcomes.Rejected, afterRevoke.Status);
        Assert.Contains("was revoked", afterRevoke.ResultMessage);
        await using (var connection = new NpgsqlConnection(world.Scenario.ConnectionString))
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("""
                select count(*) from agent_commands c join support_actions a on a.command_id = c.id
                where a.request_id = @Id and c.result_output is not null
                """, new { request.Id }));

        // Every step in the tenant's hash-chained trail; the timeline shows allowed and refused actions.
        var trail = await world.AuditActionsAsync();
        foreach (var step in new[]
        {
            "support.passkey_registered", "support.approvers_published", "support.approvers_pinned", "support.requested", "support.approved",
            "support.grant_recorded", "support.grant_refused", "support.action_requested", "support.action_allowed", "support.action_refused",
            "support.revoked", "support.ended_by_agent",
        })
            Assert.Contains(step, trail);
        var timeline = await world.Get<SupportSessions>().TimelineAsync(world.TenantId, default);
        Assert.Contains(timeline, a => a.Outcome == SupportActionOutcome.Allowed);
        Assert.Contains(timeline, a => a.Outcome == SupportActionOutcome.Refused);
        Assert.Equal(0, await world.BrokenChainLinksAsync());

        // Another tenant's id is nothing.
        Assert.Null(await requests.GetForTenantAsync(Guid.NewGuid(), request.Id, default));
        Assert.True((await requests.RevokeAsync(Guid.NewGuid(), request.Id, world.ApproverActor, default)).IsNotFound);
        Assert.Empty(await world.Get<SupportSessions>().ForRequestAsync(world.Approver, request.Id, default));
    }

    [Fact]
    public async Task A_grant_ends_on_the_agents_clock_with_the_portal_down_and_an_unanswered_request_expires()
    {
        await using var world = await SupportScenario.StartAsync();
        var requests = world.Get<SupportRequests>();
        await world.Get<SupportApprovers>().SendToAgentAsync(world.TenantId, world.Scenario.AgentId, world.ApproverActor, default);

        // A short grant (the Portal's minimum is an hour; the agent takes any window up to 72 h): signed by the approver.
        var request = await world.RequestAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var shortGrant = request.GrantFrom(DateTimeOffset.FromUnixTimeSeconds(now)) with { NotAfter = now + 15 };
        var recorded = await world.BypassAsync(CommandTypes.SupportGrant, SupportScenario.GrantPayload(shortGrant,
            world.Passkey.Sign(shortGrant.Challenge())));
        Assert.Equal(CommandOutcomes.Succeeded, recorded.Status);
        var allowed = await world.BypassAsync(CommandTypes.SupportAction, SupportScenario.Action(request.Id, SupportActions.List));
        Assert.Equal(CommandOutcomes.Succeeded, allowed.Status);

        // The Portal goes away; nobody tells the agent anything; not-after passes.
        var portalUrl = world.Scenario.Portal.BaseUrl;
        await world.Scenario.Portal.DisposeAsync();
        await world.Scenario.Agent.WaitForOutputAsync("Command poll failed");
        await Eventually.ValueAsync(() => Task.FromResult(DateTimeOffset.UtcNow.ToUnixTimeSeconds()), t => t > shortGrant.NotAfter + 1,
            "the grant's not-after to pass");
        world.Scenario.Portal = await PortalServer.StartAsync(world.Scenario.ConnectionString, portalUrl, AgentScenario.FastPortal);
        var late = await world.BypassAsync(CommandTypes.SupportAction, SupportScenario.Action(request.Id, SupportActions.List));
        Assert.Equal(CommandOutcomes.Rejected, late.Status);
        Assert.Contains("ended at", late.ResultMessage);
        Assert.Contains("agent clock", late.ResultMessage);

        // A request nobody answers expires after 12 h (its answer-by moved to the past, as 12 h passing would): it reads as
        // expired, cannot be approved, and its expiry is recorded once in the trail.
        requests = world.Get<SupportRequests>();
        var unanswered = await world.RequestAsync();
        await using (var connection = new NpgsqlConnection(world.Scenario.ConnectionString))
            await connection.ExecuteAsync("update support_requests set answer_by = now() - interval '1 second' where id = @Id",
                new { unanswered.Id });
        var expired = (await requests.GetForTenantAsync(world.TenantId, unanswered.Id, default))!;
        Assert.Equal(SupportRequestStatus.Expired, expired.StatusAt(DateTimeOffset.UtcNow));
        var grant = requests.ProposeGrant(expired);
        Assert.True((await requests.ApproveAsync(world.TenantId, unanswered.Id, grant, world.Passkey.Sign(grant.Challenge()), world.Approver,
            world.ApproverActor, default)).Errors.Has("approval"));
        await requests.RecordClockEndingsAsync(default);
        await requests.RecordClockEndingsAsync(default);
        Assert.Single(await world.AuditActionsAsync(), a => a == "support.expired");
    }

    [Fact]
    public async Task An_actions_command_reaches_the_agent_only_with_its_row_so_an_answer_at_once_is_never_lost()
    {
        await using var world = await SupportScenario.StartAsync();
        var request = await world.ApproveAsync(await world.RequestAsync());
        await using var blocker = new NpgsqlConnection(world.Scenario.ConnectionString);
        await blocker.OpenAsync();
        await using var observer = new NpgsqlConnection(world.Scenario.ConnectionString);
        await observer.OpenAsync();

        // Inserts into support_actions wait while this transaction holds the table: the ask stops at its row.
        Task<SupportActionRecord> asking;
        await using (var holding = await blocker.BeginTransactionAsync())
        {
            await blocker.ExecuteAsync("lock table support_actions in share mode", transaction: holding);
            asking = world.AskAsync(request.Id, new SupportQuestion(SupportActions.List));
            await Eventually.ValueAsync(() => observer.ExecuteScalarAsync<long>("""
                    select count(*) from pg_stat_activity
                    where datname = current_database() and wait_event_type = 'Lock' and query like '%insert into support_actions%'
                    """), waiting => waiting == 1, "the ask to wait for the lock at its support_actions row", TimeSpan.FromSeconds(60));

            // Its command is written, but in the same transaction: nothing the agent could fetch (and answer before the row exists).
            Assert.Equal(0, await observer.ExecuteScalarAsync<long>(
                "select count(*) from agent_commands where tenant_id = @TenantId and type = @type",
                new { world.TenantId, type = CommandTypes.SupportAction }));
            await holding.CommitAsync();
        }

        Assert.Equal(SupportActionOutcome.Allowed, (await asking).Outcome);
    }
}

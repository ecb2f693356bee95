using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Tests.Infrastructure;
using Cogrion.Portal.Tests.Workspaces;
using Dapper;

namespace Cogrion.Portal.Tests.Database;

/// <summary>
/// Tenant pages follow their own tenant's changes only (migration 0045, <see cref="TenantChanges"/>): a
/// change of a workspace, a run or a cloud account reaches the listeners of that tenant and subject, and
/// nobody else's, so N open tabs of other tenants cost nothing when it happens.
/// </summary>
public sealed class TenantChangesTests : IAsyncLifetime
{
    private WorkspaceWorld world = null!;

    public async Task InitializeAsync() => world = await WorkspaceWorld.StartAsync(runWorkers: false);

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task A_change_reaches_the_listeners_of_its_tenant_and_subject_and_no_one_else()
    {
        var changes = world.Get<TenantChanges>();
        await world.Get<PostgresNotifications>().Listening;
        var (tenantA, accountA) = await TenantWithAccountAsync("changes-a");
        var (tenantB, accountB) = await TenantWithAccountAsync("changes-b");
        var workspaceA = await WorkspaceAsync(tenantA, accountA, "alpha", "10.41.0.0/16");
        var otherA = await WorkspaceAsync(tenantA, accountA, "beta", "10.42.0.0/16");
        var workspaceB = await WorkspaceAsync(tenantB, accountB, "gamma", "10.43.0.0/16");

        // The creations' own notifications come first: let them pass before anyone listens.
        await SettledAsync(changes);
        var heard = new Dictionary<string, int>();
        IDisposable Count(string name, Guid tenant, Guid? subject) => changes.Listen(tenant, subject, TimeSpan.Zero, () =>
        {
            lock (heard) heard[name] = heard.GetValueOrDefault(name) + 1;
            return Task.CompletedTask;
        });
        int Heard(string name) { lock (heard) return heard.GetValueOrDefault(name); }
        // Refreshes run off the notification's thread: wait for those that must come, then for a marker sent after
        // the changes, so that a refresh that must not come would have come by then.
        async Task HeardAsync(params (string Name, int Times)[] expected)
        {
            foreach (var (name, times) in expected)
                await Eventually.ValueAsync(() => Task.FromResult(Heard(name)), n => n >= times, $"{name} to hear {times} change(s)");
            await SettledAsync(changes);
            foreach (var (name, times) in expected) Assert.Equal(times, Heard(name));
        }
        using var tenantAll = Count("tenant A", tenantA, null);
        using var workspaceOnly = Count("workspace alpha", tenantA, workspaceA);
        using var otherWorkspace = Count("workspace beta", tenantA, otherA);
        using var accountOnly = Count("account A", tenantA, accountA);
        using var tenantBAll = Count("tenant B", tenantB, null);

        await ExecuteAsync("update workspaces set updated_at = now() where id = @id", workspaceA);
        await ExecuteAsync("update workspaces set updated_at = now() where id = @id", workspaceB);
        await HeardAsync(("tenant B", 1), ("tenant A", 1), ("workspace alpha", 1));
        Assert.Equal(0, Heard("workspace beta"));
        Assert.Equal(0, Heard("account A"));

        // A run of the workspace and the cloud account are followed the same way.
        await ExecuteAsync("update workspace_runs set stage = stage where workspace_id = @id", workspaceA);
        await ExecuteAsync("update cloud_accounts set name = name where id = @id", accountA);
        await HeardAsync(("account A", 1), ("workspace alpha", 2), ("tenant B", 1));
        Assert.Equal(0, Heard("workspace beta"));
    }

    [Fact]
    public async Task A_listener_that_went_away_hears_nothing_more_and_all_catch_up_after_a_lost_connection()
    {
        var changes = world.Get<TenantChanges>();
        var tenant = Guid.NewGuid();
        var subject = Guid.NewGuid();
        var (kept, dropped) = (0, 0);
        using var keeper = changes.Listen(tenant, null, TimeSpan.Zero, () => { Interlocked.Increment(ref kept); return Task.CompletedTask; });
        var leaver = changes.Listen(tenant, subject, TimeSpan.Zero, () => { Interlocked.Increment(ref dropped); return Task.CompletedTask; });
        Assert.Equal(2, changes.ListenerCount(tenant));

        leaver.Dispose();
        Assert.Equal(1, changes.ListenerCount(tenant));
        changes.OnNotification($"{tenant}:{subject}");
        changes.OnNotification("not a payload");
        changes.OnNotification($"{Guid.NewGuid()}:{subject}");
        await Eventually.ValueAsync(() => Task.FromResult(Volatile.Read(ref kept)), n => n == 1, "the tenant's listener to hear its change");
        changes.CatchUp();
        await Eventually.ValueAsync(() => Task.FromResult(Volatile.Read(ref kept)), n => n == 2, "the tenant's listener to catch up");

        Assert.Equal(0, Volatile.Read(ref dropped));
    }

    /// <summary>Every notification committed before this call has been dispatched when it returns.</summary>
    private async Task SettledAsync(TenantChanges changes)
    {
        var marker = Guid.NewGuid();
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = changes.Listen(marker, null, TimeSpan.Zero, () => { heard.TrySetResult(); return Task.CompletedTask; });
        await using (var connection = await world.OpenAsync())
            await connection.ExecuteAsync("select pg_notify(@channel, @payload)",
                new { channel = TenantChanges.ChannelName, payload = $"{marker}:{marker}" });
        await heard.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task<(Guid Tenant, Guid Account)> TenantWithAccountAsync(string slug)
    {
        var tenant = await world.NewTenantAsync(slug);
        return (tenant, await world.NewAccountAsync(tenant));
    }

    private async Task<Guid> WorkspaceAsync(Guid tenant, Guid account, string name, string cidr)
    {
        var created = await world.Commands.CreateAsync(tenant, WorkspaceWorld.Valid(account, name, cidr), WorkspaceWorld.Operator, default);
        Assert.True(created.Succeeded);
        return created.Value!.Id;
    }

    private async Task ExecuteAsync(string sql, Guid id)
    {
        await using var connection = await world.OpenAsync();
        Assert.True(await connection.ExecuteAsync(sql, new { id }) > 0, $"'{sql}' changed no row");
    }
}

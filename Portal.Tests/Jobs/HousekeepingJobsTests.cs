using System.Net;
using Cogrion.Jobs;
using Cogrion.Portal.Features.Agents;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Jobs;

/// <summary>
/// The features' housekeeping runs as recurring jobs of the job engine (one run per beat across every replica, each run
/// visible in the jobs console with its log), not as a timer loop in each process.
/// </summary>
public sealed class HousekeepingJobsTests
{
    [Fact]
    public async Task The_housekeeping_jobs_are_scheduled_and_the_agents_one_deletes_only_what_expired()
    {
        var db = await PortalJobDatabase.CreateAsync();
        await using var portal = new PortalAppFactory(db.ConnectionString);
        var client = portal.CreateNonRedirectingClient();
        await Eventually.StatusAsync(client, "/readyz", HttpStatusCode.OK);

        var scheduled = await Eventually.ValueAsync(
            () => db.ScalarAsync<string>("select coalesce(string_agg(name, ',' order by name), '') from recurring_jobs where name like " +
                "'%.housekeeping'"),
            names => names == "agents.housekeeping,secrets.housekeeping,support.housekeeping", "the three housekeeping jobs to be scheduled");
        Assert.Equal("agents.housekeeping,secrets.housekeeping,support.housekeeping", scheduled);

        var agent = Guid.NewGuid();
        await db.ExecuteAsync("""
            insert into agent_assertion_ids (agent_id, jti, expires_at)
            values (@agent, 'expired', now() - interval '1 minute'), (@agent, 'current', now() + interval '5 minutes')
            """, new { agent });
        var id = await db.EnqueueAsync(new AgentHousekeepingJob());
        await db.WaitForStateAsync(id, JobStates.Succeeded);

        Assert.Equal("current", await db.ScalarAsync<string>("select string_agg(jti, ',') from agent_assertion_ids where agent_id = @agent",
            new { agent }));
    }
}

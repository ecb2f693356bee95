using Cogrion.Jobs.Tests;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Jobs;

/// <summary>A database of the Portal's (every migration, the job engine's schema first), read with the engine's own test helpers.</summary>
public static class PortalJobDatabase
{
    public static async Task<JobTestDatabase> CreateAsync()
    {
        var server = await PostgresServer.GetAsync();
        return new JobTestDatabase { ConnectionString = server.ConnectionString(await server.CreateMigratedDatabaseAsync("jobs")) };
    }
}

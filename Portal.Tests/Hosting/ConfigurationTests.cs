using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Hosting;

/// <summary>The real Portal binary refuses to start on a bad configuration and says everything that is wrong at once.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public async Task A_bad_configuration_stops_the_portal_listing_every_problem()
    {
        var result = await ProcessRunner.RunAsync(RepoPaths.PortalBinary, [], new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = PortalProcess.NextBaseUrl(),
            ["Database__ConnectionString"] = "",
            ["Keycloak__Authority"] = "not a url",
            ["Keycloak__ClientSecret"] = "",
            ["Platform__BaseDomain"] = "no_underscores.example",
        }, AppContext.BaseDirectory, TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("configuration is invalid", result.StandardError);
        Assert.Contains("Database:ConnectionString is required", result.StandardError);
        Assert.Contains("Keycloak:Authority must be an absolute http(s) URL", result.StandardError);
        Assert.Contains("Keycloak:ClientSecret is required", result.StandardError);
        Assert.Contains("Platform:BaseDomain must be a DNS domain", result.StandardError);
        Assert.Contains("DataProtection:KeyEncryptionKey is required outside Development", result.StandardError);
    }

    [Fact]
    public async Task An_http_authority_is_refused_unless_https_is_explicitly_not_required()
    {
        var server = await PostgresServer.GetAsync();
        var result = await ProcessRunner.RunAsync(RepoPaths.PortalBinary, [], new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = PortalProcess.NextBaseUrl(),
            ["Database__ConnectionString"] = server.ConnectionString("postgres"),
            ["Keycloak__Authority"] = "http://id.example",
            ["Keycloak__ClientSecret"] = "a-real-looking-secret",
            ["Platform__BaseDomain"] = "cogrion.example",
        }, AppContext.BaseDirectory, TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Keycloak:Authority must use https", result.StandardError);
    }
}

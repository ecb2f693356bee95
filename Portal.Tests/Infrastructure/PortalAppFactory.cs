using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The Portal hosted in-process against a real PostgreSQL database of the test's own.
/// The identity provider address points at a closed port unless a test gives a real one:
/// these tests stop at the redirect to it.
/// </summary>
public sealed class PortalAppFactory(string connectionString, string? keycloakAuthority = null, IDictionary<string, string?>? overrides = null)
    : WebApplicationFactory<Program>
{
    /// <summary>Test-only service changes (e.g. <see cref="TestAuthentication"/>), applied after the Portal's own registrations.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>Production unless a test needs another: tools/start.sh runs the Portal as Development.</summary>
    public string Environment { get; init; } = "Production";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        var settings = TestSettings.PortalConfiguration(connectionString, keycloakAuthority ?? "http://127.0.0.1:9");
        if (overrides is not null)
            foreach (var (key, value) in overrides) settings[key] = value;
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        if (TestServices is not null) builder.ConfigureTestServices(TestServices);
    }

    /// <summary>A client that does not follow redirects, so a test can see where it is sent.</summary>
    public HttpClient CreateNonRedirectingClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
}

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The Portal hosted in-process against a real PostgreSQL database of the test's own. Unless a test
/// gives another, the identity provider is one real dev IdP shared by every in-process test (the
/// OpenID Connect handler reads the realm's discovery document before it redirects to it); these
/// tests stop at the redirect to it.
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
        var settings = TestSettings.PortalConfiguration(connectionString, keycloakAuthority ?? SharedIdentityProvider.Value.GetAwaiter().GetResult()
            .Authority);
        if (overrides is not null)
            foreach (var (key, value) in overrides) settings[key] = value;
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        if (TestServices is not null) builder.ConfigureTestServices(TestServices);
    }

    /// <summary>The in-process test server's own address, which the shared provider accepts as a redirect URI.</summary>
    public const string InProcessBaseUrl = "http://localhost";

    private static readonly Lazy<Task<DevIdentityProvider>> SharedIdentityProvider =
        // Started on the thread pool: ConfigureWebHost waits for it synchronously, and must not wait on the test's own context.
        new(() => Task.Run(() => DevIdentityProvider.StartAsync([InProcessBaseUrl])));

    /// <summary>The dev IdP in-process Portals use unless told otherwise.</summary>
    public static Task<DevIdentityProvider> SharedIdentityProviderAsync() => SharedIdentityProvider.Value;

    /// <summary>A client that does not follow redirects, so a test can see where it is sent.</summary>
    public HttpClient CreateNonRedirectingClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
}

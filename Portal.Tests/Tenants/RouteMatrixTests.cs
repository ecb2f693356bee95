using System.Net;
using System.Text;
using System.Text.Json;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Cogrion.Portal.Tests.Tenants;

/// <summary>
/// Tenant isolation, proven over HTTP: every page and API endpoint the Portal maps (read from its
/// EndpointDataSource, so a new route is covered automatically or fails the classification test) is
/// called as an admin of tenant A, a viewer of A, an admin of A's child, an admin of unrelated
/// tenant B, a platform admin, and nobody, against tenant A and against A's child. What each may get
/// follows from the endpoint's own metadata; anything else fails, and a tenant one cannot see must
/// answer exactly like a tenant that does not exist.
/// </summary>
public sealed class RouteMatrixTests(RouteMatrixTests.SeededPortal world) : IClassFixture<RouteMatrixTests.SeededPortal>
{
    private const string Alpha = SeededPortal.Alpha;
    private const string AlphaChild = SeededPortal.AlphaChild;
    private const string Missing = "no-such-tenant";

    /// <summary>
    /// The framework's own endpoints, not ours, all behind sign-in by the fallback policy: Blazor's circuit
    /// endpoints and script, and the static-asset fallback that serves files of the build output's manifest.
    /// </summary>
    private static readonly string[] FrameworkPrefixes = PortalEndpoints.FrameworkPrefixes;

    /// <summary>One Portal and one seeded database for the whole class: the calls change nothing, which a test checks.</summary>
    public sealed class SeededPortal : IAsyncLifetime
    {
        public const string Alpha = "alpha";
        public const string AlphaChild = "alpha-child";
        public const string Bravo = "bravo";

        public PortalAppFactory Portal { get; private set; } = null!;
        public HttpClient Client { get; private set; } = null!;
        public string ConnectionString { get; private set; } = null!;
        public Dictionary<string, TestUser?> Personas { get; } = [];

        /// <summary>Each persona's effective role per tenant slug; absent means "cannot see it".</summary>
        public Dictionary<string, Dictionary<string, TenantRole>> Roles { get; } = [];

        public async Task InitializeAsync()
        {
            var server = await PostgresServer.GetAsync();
            ConnectionString = server.ConnectionString(await server.CreateMigratedDatabaseAsync("matrix"));
            Portal = new PortalAppFactory(ConnectionString) { TestServices = TestAuthentication.Register };
            Client = Portal.CreateNonRedirectingClient();
            await Eventually.StatusAsync(Client, "/readyz", HttpStatusCode.OK);
            await SeedAsync();
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Portal.DisposeAsync();
        }

        private async Task SeedAsync()
        {
            await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
            await using var connection = await dataSource.OpenConnectionAsync();
            Task<TestUser> User(string name, bool platformAdmin = false) =>
                TestUsers.CreateAsync(connection, name, platformAdmin: platformAdmin, subject: "sub-" + name);
            async Task<Guid> Tenant(string slug, Guid? parent, string domain) => await connection.ExecuteScalarAsync<Guid>(
                "insert into tenants (parent_id, slug, name, domain) values (@parent, @slug, @slug, @domain) returning id",
                    new { parent, slug, domain });
            async Task Grant(Guid tenant, TestUser user, TenantRole role) => await connection.ExecuteAsync(
                "insert into tenant_memberships (tenant_id, user_id, role) values (@tenant, @user, @role::tenant_role)",
                new { tenant, user = user.Id, role = role.ToText() });

            var alpha = await Tenant(Alpha, null, "alpha.cogrion.test");
            var child = await Tenant(AlphaChild, alpha, "child.alpha.cogrion.test");
            var bravo = await Tenant(Bravo, null, "bravo.cogrion.test");

            var adminOfA = await User("admin-of-a");
            var viewerOfA = await User("viewer-of-a");
            var adminOfChild = await User("admin-of-child");
            var adminOfB = await User("admin-of-b");
            var platformAdmin = await User("platform-admin", platformAdmin: true);
            await Grant(alpha, adminOfA, TenantRole.Admin);
            await Grant(alpha, viewerOfA, TenantRole.Viewer);
            await Grant(child, adminOfChild, TenantRole.Admin);
            await Grant(bravo, adminOfB, TenantRole.Admin);

            Personas["admin of A"] = adminOfA;
            Personas["viewer of A"] = viewerOfA;
            Personas["admin of A's child"] = adminOfChild;
            Personas["admin of unrelated B"] = adminOfB;
            Personas["platform admin"] = platformAdmin;
            Personas["nobody"] = null;
            Roles["admin of A"] = new() { [Alpha] = TenantRole.Admin, [AlphaChild] = TenantRole.Admin };
            Roles["viewer of A"] = new() { [Alpha] = TenantRole.Viewer, [AlphaChild] = TenantRole.Viewer };
            Roles["admin of A's child"] = new() { [AlphaChild] = TenantRole.Admin };
            Roles["admin of unrelated B"] = new() { [Bravo] = TenantRole.Admin };
            Roles["platform admin"] = new() { [Alpha] = TenantRole.Viewer, [AlphaChild] = TenantRole.Viewer, [Bravo] = TenantRole.Viewer };
            Roles["nobody"] = [];
        }
    }

    // ---- Classification: what every endpoint declares about who may call it --------------------

    private abstract record Rule
    {
        public sealed record Public : Rule;
        public sealed record PlatformAdminOnly : Rule;
        public sealed record SignedInOwnData : Rule;
        public sealed record TenantScoped(TenantRole Minimum) : Rule;
        public sealed record Framework : Rule;
        /// <summary>The Cluster Agent API: only an agent's own bearer token opens it, never a person's session.</summary>
        public sealed record AgentOnly : Rule;
        public sealed record Unclassifiable(string Why) : Rule;
    }

    private sealed record Route(RouteEndpoint Endpoint, string Method, Rule Rule)
    {
        public string Pattern => "/" + Endpoint.RoutePattern.RawText!.TrimStart('/');
        public bool IsApi => Pattern.StartsWith("/api/", StringComparison.Ordinal);
        public bool HasTenant => Endpoint.RoutePattern.GetParameter(TenantRoute.Parameter) is not null;
        public override string ToString() => $"{Method} {Pattern}";
    }

    private static Rule Classify(RouteEndpoint endpoint)
    {
        var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
        var metadata = endpoint.Metadata;
        var hasTenant = endpoint.RoutePattern.GetParameter(TenantRoute.Parameter) is not null;
        var tenantRole = metadata.GetMetadata<RequiresTenantRoleAttribute>();
        if (hasTenant != (tenantRole is not null))
            return new Rule.Unclassifiable(hasTenant ? "has a {tenant} route value but no [RequiresTenantRole]"
                : "has [RequiresTenantRole] but no {tenant} route value");
        if (tenantRole is not null) return new Rule.TenantScoped(tenantRole.Minimum);
        if (metadata.GetMetadata<IAllowAnonymous>() is not null) return new Rule.Public();
        if (metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == PortalPolicies.PlatformAdmin)) return new Rule.PlatformAdminOnly();
        if (metadata.GetOrderedMetadata<IAuthorizeData>()
            .Any(a => a.Policy == Cogrion.Portal.Features.Agents.Authentication.AgentBearerHandler.PolicyName)) return new Rule.AgentOnly();
        if (metadata.GetMetadata<UserScopedAttribute>() is not null) return new Rule.SignedInOwnData();
        if (FrameworkPrefixes.Any(p => pattern.StartsWith(p, StringComparison.Ordinal))) return new Rule.Framework();
        return new Rule.Unclassifiable("declares none of [AllowAnonymous], the PlatformAdmin policy, the agent policy, [RequiresTenantRole] or " +
            "[UserScoped]");
    }

    private IReadOnlyList<Route> Routes() => PortalEndpoints.All(world.Portal.Services)
        // Pages answer GET (and POST for forms); their access rules are the same for both, so GET stands for the page.
        .Where(r => !r.IsPage || r.Method == "GET")
        .Select(r => new Route(r.Endpoint, r.Method, Classify(r.Endpoint)))
        .ToList();

    [Fact]
    public void Every_page_and_endpoint_declares_who_may_call_it()
    {
        var routes = Routes();

        var unclassified = routes.Where(r => r.Rule is Rule.Unclassifiable).Select(r => $"{r}: {((Rule.Unclassifiable)r.Rule).Why}").ToList();

        Assert.True(unclassified.Count == 0, "Endpoints nobody has classified:\n" + string.Join("\n", unclassified));
        // The matrix is only as good as what it found: the tenant pages and API must be among the routes.
        foreach (var page in new[] { "/t/{tenant}", "/t/{tenant}/members", "/t/{tenant}/tenants", "/t/{tenant}/audit", "/t/{tenant}/settings" })
            Assert.Contains(routes, r => r.Pattern == page && r.Rule is Rule.TenantScoped);
        Assert.Contains(routes, r => r.Pattern.StartsWith("/api/v1/tenants/{tenant}/", StringComparison.Ordinal) && r.Method == "DELETE");
    }

    // ---- The calls -----------------------------------------------------------------------------

    private enum Outcome { Allowed, SignInRequired, Forbidden, NotFound, Unexpected }

    /// <summary>What came back, reduced to what a caller can observe: status, where it sends them, the problem's title.</summary>
    private sealed record Answer(Outcome Outcome, int Status, string Location, string? Title, string Detail);

    private async Task<Answer> CallAsync(Route route, string tenantSlug, TestUser? user)
    {
        var path = new StringBuilder();
        foreach (var segment in route.Endpoint.RoutePattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternParameterPart { Name: TenantRoute.Parameter } => tenantSlug,
                    // Any other id is one that exists nowhere: an allowed caller gets past the guard to "no such object".
                    RoutePatternParameterPart parameter => NonexistentValueFor(parameter),
                    RoutePatternSeparatorPart separator => separator.Content,
                    _ => throw new InvalidOperationException($"Unexpected route part in {route}."),
                });
            }
        }
        var request = new HttpRequestMessage(new HttpMethod(route.Method), path.Length == 0 ? "/" : path.ToString()).As(user);
        if (route.Method is "POST" or "PUT" or "PATCH")
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json"); // never valid enough to change anything
        using var response = await world.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var location = response.Headers.Location?.ToString() ?? "";
        var status = (int)response.StatusCode;
        var title = ProblemTitle(body);
        var detail = $"{route.Method} {path} → {status} {location}{title}";
        Answer As(Outcome outcome) => new(outcome, status, location, title, detail);

        if (status == 401 || (status == 302 && location.Contains("/realms/", StringComparison.Ordinal))) return As(Outcome.SignInRequired);
        if (status == 403 || (status == 302 && location.Contains("/access-denied", StringComparison.Ordinal))) return As(Outcome.Forbidden);
        if (status == 302 && location.EndsWith("/not-found", StringComparison.Ordinal)) return As(Outcome.NotFound);
        // The guard's 404 is the generic one every unknown path gets; a handler's "no such member" names the object.
        if (status == 404 && title == "Not found.") return As(Outcome.NotFound);
        if (status >= 500) return As(Outcome.Unexpected) with { Detail = detail + " " + body };
        return As(Outcome.Allowed);
    }

    /// <summary>A value that matches the parameter's route constraint (so the route is reached) and names nothing.</summary>
    private static string NonexistentValueFor(RoutePatternParameterPart parameter) =>
        parameter.ParameterPolicies.Any(p => p.Content is "long" or "int")
            ? Random.Shared.NextInt64(1_000_000_000, int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : Guid.NewGuid().ToString();

    private static string? ProblemTitle(string body)
    {
        try
        {
            var root = JsonDocument.Parse(body).RootElement;
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("title", out var title) ? title.GetString() : null;
        }
        catch (JsonException) { return null; }
    }

    private Outcome Expected(Route route, string persona, string tenantSlug) => route.Rule switch
    {
        _ when world.Personas[persona] is null => route.Rule is Rule.Public ? Outcome.Allowed : Outcome.SignInRequired,
        Rule.Public or Rule.SignedInOwnData => Outcome.Allowed,
        Rule.PlatformAdminOnly => world.Personas[persona]!.PlatformAdmin ? Outcome.Allowed : Outcome.Forbidden,
        Rule.AgentOnly => Outcome.SignInRequired,
        Rule.TenantScoped scoped => world.Roles[persona].TryGetValue(tenantSlug, out var role)
            ? role >= scoped.Minimum ? Outcome.Allowed : Outcome.Forbidden
            : Outcome.NotFound,
        _ => Outcome.Unexpected,
    };

    [Fact]
    public async Task Every_role_gets_exactly_what_the_endpoint_allows_and_nothing_of_tenants_it_cannot_see()
    {
        var routes = Routes().Where(r => r.Rule is not (Rule.Framework or Rule.Unclassifiable)).ToList();
        var before = await CountRowsAsync();
        var failures = new List<string>();
        var calls = 0;

        foreach (var route in routes)
        {
            // Tenant routes against A and A's child; the others once.
            foreach (var slug in route.HasTenant ? new[] { Alpha, AlphaChild } : [Alpha])
            {
                foreach (var persona in world.Personas.Keys)
                {
                    var answer = await CallAsync(route, slug, world.Personas[persona]);
                    calls++;
                    var expected = Expected(route, persona, slug);
                    // A public endpoint may itself send people to the realm: that is what /account/signin is for.
                    var acceptable = answer.Outcome == expected || (route.Rule is Rule.Public && answer.Outcome == Outcome.SignInRequired);
                    if (!acceptable) failures.Add($"{persona}: expected {expected}, got {answer.Outcome}: {answer.Detail}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} wrong answer(s) of {calls}:\n" + string.Join("\n", failures));
        Assert.True(calls >= 200, $"Only {calls} calls: the matrix lost its routes.");
        Assert.Equal(before, await CountRowsAsync());
    }

    [Fact]
    public async Task An_allowed_page_renders_that_tenants_own_data_on_the_server()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/t/alpha/members").As(world.Personas["admin of A"]);

        using var response = await world.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("viewer-of-a", html);
        Assert.DoesNotContain("admin-of-b", html);
    }

    [Fact]
    public async Task A_tenant_one_cannot_see_answers_exactly_like_a_tenant_that_does_not_exist()
    {
        var outsider = world.Personas["admin of unrelated B"];
        foreach (var route in Routes().Where(r => r.HasTenant))
        {
            var hidden = await CallAsync(route, Alpha, outsider);
            var missing = await CallAsync(route, Missing, outsider);

            Assert.Equal(Outcome.NotFound, hidden.Outcome);
            Assert.Equal((missing.Status, missing.Location, missing.Title), (hidden.Status, hidden.Location, hidden.Title));
        }
    }

    private async Task<(long, long, long, long)> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(world.ConnectionString);
        return await connection.QuerySingleAsync<(long, long, long, long)>("""
            select (select count(*) from tenants), (select count(*) from tenant_memberships),
                   (select count(*) from tenant_invitations), (select count(*) from users)
            """);
    }
}

using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Features.Tenants.Api;
using Cogrion.Portal.Features.Tenants.Invitations;
using Cogrion.Portal.Features.Tenants.Members;
using Cogrion.Portal.Infrastructure.Authentication;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Tenants;

public static class TenantsServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortalTenants(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TenantOptions, TenantOptionsValidator>(builder.Configuration, TenantOptions.Section);
        // Scoped: it remembers the platform-admin accesses it already audited in this request or circuit.
        services.TryAddScoped<TenantAccess>();
        services.TryAddSingleton<TenantStore>();
        services.TryAddSingleton<MembershipStore>();
        services.TryAddSingleton<InvitationStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISignInParticipant, InvitationBinder>());
        return builder;
    }

    /// <summary>Checks every tenant route (page or API) before it runs. Place after UseAuthorization.</summary>
    public static IApplicationBuilder UseTenantAccess(this IApplicationBuilder app) => app.UseMiddleware<TenantRouteGuard>();

    public static IEndpointRouteBuilder MapTenantEndpoints(this IEndpointRouteBuilder endpoints) => endpoints.MapTenantsApi();
}

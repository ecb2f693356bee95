using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>Reading the trail: the audit pages and the export. Writing it is shared infrastructure (AddPortalAuditLog).</summary>
    public static WebApplicationBuilder AddPortalAudit(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<AuditQueries>();
        return builder;
    }
}

using Microsoft.AspNetCore.Authentication;

namespace Cogrion.Portal.Features.Tenants.Access;

/// <summary>
/// Enforces <see cref="RequiresTenantRoleAttribute"/> on every HTTP request, pages and API alike,
/// before the endpoint runs. A tenant the person cannot see answers exactly like a tenant that does
/// not exist (404), so guessing slugs reveals nothing; a tenant they see with too weak a role is a 403.
/// On success the <see cref="TenantContext"/> is left in the request's features for the handler.
/// Runs after authentication and authorization: the fallback policy has already turned anonymous
/// requests away.
/// </summary>
public sealed class TenantRouteGuard(RequestDelegate next, ILogger<TenantRouteGuard> logger)
{
    public async Task InvokeAsync(HttpContext context, TenantAccess access)
    {
        var endpoint = context.GetEndpoint();
        var requirement = endpoint?.Metadata.GetMetadata<RequiresTenantRoleAttribute>();
        var slug = context.GetRouteValue(TenantRoute.Parameter) as string;
        if (requirement is null && slug is null)
        {
            await next(context);
            return;
        }
        if (requirement is null || slug is null)
        {
            // Fail closed: a route that names a tenant must say which role it takes, and a requirement needs a tenant to apply to.
            logger.LogError("Endpoint {Endpoint} has a tenant route value or a tenant role requirement but not both; refusing the request",
                endpoint?.DisplayName);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return;
        }
        if (context.User.Identity?.IsAuthenticated != true)
        {
            await context.ChallengeAsync();
            return;
        }

        switch (await access.CheckAsync(context.User, slug, requirement.Minimum, context.Request.Path, context.RequestAborted))
        {
            case TenantAccessDecision.Granted granted:
                context.Features.Set(granted.Context);
                await next(context);
                break;
            case TenantAccessDecision.Forbidden:
                await context.ForbidAsync();
                break;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                break;
        }
    }
}

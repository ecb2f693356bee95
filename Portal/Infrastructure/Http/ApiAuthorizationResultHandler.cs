using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>
/// An API or circuit request that authorization turns away is answered here with a 401 or 403
/// problem, and is never handed to the sign-in handler: a challenge of the OpenID Connect (or OAuth)
/// handler starts a sign-in, which sets correlation and nonce cookies before any event can say
/// "this is an API call". Policies that name their own scheme (the agent API's bearer scheme)
/// challenge through it as before. Pages keep the framework's behaviour: a redirect to sign in.
/// </summary>
public sealed class ApiAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler framework = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!ApiProblems.IsBackgroundRequest(context.Request) || policy.AuthenticationSchemes.Count > 0)
            return framework.HandleAsync(next, context, policy, authorizeResult);
        if (authorizeResult.Challenged)
            return ApiProblems.WriteAsync(context, StatusCodes.Status401Unauthorized, "Authentication required.",
                "Sign in through the Portal, or present the credentials this API expects.");
        if (authorizeResult.Forbidden)
            return ApiProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "You are not allowed to do this.");
        return framework.HandleAsync(next, context, policy, authorizeResult);
    }
}

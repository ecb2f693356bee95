using System.Text.Encodings.Web;
using Cogrion.Agent.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents.Authentication;

/// <summary>
/// The agent API's own authentication scheme: "Authorization: Bearer {access token}", checked on
/// every call. Its challenge is a 401 problem+json that says why (expired, revoked), never a
/// redirect to the sign-in page that the cookie scheme would send a browser to.
/// </summary>
public sealed class AgentBearerHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AgentCredentials credentials) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "agent-bearer";
    public const string PolicyName = "agent";
    private const string RefusalKey = "cogrion.agent-refusal";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var (agent, refusal) = await credentials.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (agent is null)
        {
            Context.Items[RefusalKey] = refusal;
            return AuthenticateResult.Fail(refusal!.Detail);
        }
        return AuthenticateResult.Success(new AuthenticationTicket(agent.ToPrincipal(SchemeName), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var refusal = Context.Items[RefusalKey] as AgentRefusal
            ?? AgentCredentials.InvalidToken("Send the access token from " + ProtocolV1.Token + " as a Bearer token.");
        Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: refusal.Type, title: refusal.Title, detail: refusal.Detail)
            .ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "You are not allowed to do this.").ExecuteAsync(Context);
}

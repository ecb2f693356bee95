using Cogrion.Agent.Protocol;
using Cogrion.Portal.Features.Agents.Authentication;
using Cogrion.Portal.Features.Agents.Commands;
using Cogrion.Portal.Features.Agents.Enrollment;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.Agents;

/// <summary>
/// Agent protocol v1 (docs/agent-protocol.md). Registration and token are anonymous by nature (the
/// bootstrap token and the signed assertion are the credentials); everything else requires the
/// agent's bearer access token through its own scheme, never the browser's session cookie.
/// </summary>
public static class AgentEndpoints
{
    public static RouteGroupBuilder MapAgentProtocolV1(this IEndpointRouteBuilder endpoints)
    {
        var anonymous = endpoints.MapGroup(ProtocolV1.Prefix).AllowAnonymous().RequireRateLimiting(AgentRateLimits.Anonymous);
        anonymous.MapPost("/registrations", RegisterAsync);
        anonymous.MapPost("/token", IssueTokenAsync);

        var agent = endpoints.MapGroup(ProtocolV1.Prefix)
            .RequireAuthorization(AgentBearerHandler.PolicyName)
            .RequireRateLimiting(AgentRateLimits.Agent);
        agent.MapGet("/commands", WaitForCommandsAsync);
        agent.MapPost("/commands/{commandId:guid}/result", ReportResultAsync);
        agent.MapPost("/heartbeat", HeartbeatAsync);
        agent.MapPut("/key", RotateKeyAsync);
        return agent;
    }

    private static async Task<Results<Ok<RegistrationResponse>, ProblemHttpResult>> RegisterAsync(
        RegistrationRequest request, HttpRequest http, AgentEnrollment enrollment, IOptions<AgentApiOptions> options,
            CancellationToken cancellationToken)
    {
        try
        {
            var response = await enrollment.RegisterAsync(request, TokenAudience(http, options.Value), cancellationToken);
            return response is null
                ? TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: ProblemTypes.InvalidBootstrapToken,
                    title: "The bootstrap token was refused.",
                    detail: "It is unknown, already used, or older than its lifetime. Mint a new one for the workspace and reinstall.")
                : TypedResults.Ok(response);
        }
        catch (ArgumentException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The registration is not valid.", detail: ex.Message);
        }
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest request, AgentCredentials credentials, AgentTelemetry telemetry, CancellationToken cancellationToken)
    {
        var (token, refusal) = await credentials.IssueTokenAsync(request.Assertion, cancellationToken);
        if (token is null)
        {
            telemetry.TokenRefused(refusal!.Type);
            return Refuse(refusal);
        }
        telemetry.TokenIssued();
        return TypedResults.Ok(token);
    }

    private static async Task<Results<Ok<CommandBatch>, NoContent>> WaitForCommandsAsync(
        HttpContext http, AgentCommandQueue queue, AgentTelemetry telemetry, IOptions<AgentApiOptions> options, int? wait,
            CancellationToken cancellationToken)
    {
        var agent = AgentIdentity.FromPrincipal(http.User)!;
        var longest = options.Value.LongPollTimeout;
        var timeout = wait is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, (int)longest.TotalSeconds)) : longest;
        using var poll = telemetry.StartLongPoll(agent.AgentId);
        var commands = await queue.WaitForCommandsAsync(agent.AgentId, timeout, cancellationToken);
        poll.Delivered(commands.Count);
        return commands.Count == 0 ? TypedResults.NoContent() : TypedResults.Ok(new CommandBatch(commands));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ReportResultAsync(
        Guid commandId, CommandResult result, HttpContext http, AgentCommandQueue queue, AgentTelemetry telemetry,
            CancellationToken cancellationToken)
    {
        if (!CommandOutcomes.IsKnown(result.Outcome))
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The result is not valid.",
                detail: $"outcome must be {CommandOutcomes.Succeeded}, {CommandOutcomes.Failed} or {CommandOutcomes.Rejected}.");
        var agent = AgentIdentity.FromPrincipal(http.User)!;
        var acceptance = await queue.RecordResultAsync(agent, commandId, result, cancellationToken);
        if (acceptance == ResultAcceptance.NotFound)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.", detail: "This agent has no such command.");
        if (acceptance == ResultAcceptance.Recorded) telemetry.ResultReported(result.Outcome);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<HeartbeatResponse>> HeartbeatAsync(
        HeartbeatRequest heartbeat, HttpContext http, AgentRegistry registry, AgentTelemetry telemetry, IOptions<AgentApiOptions> options,
            CancellationToken cancellationToken)
    {
        await registry.RecordHeartbeatAsync(AgentIdentity.FromPrincipal(http.User)!, heartbeat, cancellationToken);
        telemetry.Heartbeat();
        return TypedResults.Ok(new HeartbeatResponse((int)options.Value.HeartbeatInterval.TotalSeconds));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RotateKeyAsync(
        KeyRotationRequest request, HttpContext http, AgentCredentials credentials, CancellationToken cancellationToken)
    {
        var refusal = await credentials.RotateKeyAsync(AgentIdentity.FromPrincipal(http.User)!, request, cancellationToken);
        return refusal is null
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: refusal.Title, detail: refusal.Detail);
    }

    private static ProblemHttpResult Refuse(AgentRefusal refusal) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: refusal.Type, title: refusal.Title, detail: refusal.Detail);

    /// <summary>The "aud" an agent puts in its assertions: the Portal's token endpoint as the agent reaches it.</summary>
    internal static string TokenAudience(HttpRequest request, AgentApiOptions options) => PortalUrl(request, options) + ProtocolV1.Token;

    /// <summary>The Portal's URL as agents reach it: <see cref="AgentApiOptions.PublicUrl"/>, else the request's own.</summary>
    internal static string PortalUrl(HttpRequest request, AgentApiOptions options) =>
        (string.IsNullOrWhiteSpace(options.PublicUrl) ? $"{request.Scheme}://{request.Host}{request.PathBase}" : options.PublicUrl).TrimEnd('/');
}

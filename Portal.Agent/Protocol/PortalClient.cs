using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cogrion.Agent.Identity;
using Microsoft.Extensions.Options;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// The agent's HTTP client for the Portal, with its own HttpClient. It keeps the short-lived access
/// token and renews it with a freshly signed client assertion when it is about to expire or the
/// Portal refuses it; a refusal that says "revoked" becomes <see cref="AgentRevokedException"/>. A 429 is honoured for every
/// call (<see cref="PortalRetryAfter"/>): none is sent before the Portal's Retry-After has passed.
/// </summary>
public sealed class PortalClient : IPortalClient, IDisposable
{
    /// <summary>Renew this long before the token expires, so a long poll never starts with a token about to die.</summary>
    private static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(75);
    private readonly HttpClient http;
    private readonly AgentSession session;
    private readonly IOptions<AgentOptions> options;
    private readonly TimeProvider time;
    private readonly PortalRetryAfter retryAfter;
    private readonly SemaphoreSlim tokenGate = new(1, 1);
    private (string Token, DateTimeOffset ExpiresAt)? accessToken;

    public PortalClient(AgentSession session, IOptions<AgentOptions> options, TimeProvider time, PortalRetryAfter retryAfter)
    {
        this.session = session;
        this.options = options;
        this.time = time;
        this.retryAfter = retryAfter;
        http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(options.Value.PortalUrl.TrimEnd('/') + "/"),
            // Per-call deadlines come from cancellation tokens: the long poll needs more than a default timeout.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("cogrion-agent", AgentVersion.Current));
    }

    public async Task<RegistrationResponse> RegisterAsync(RegistrationRequest request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, ProtocolV1.Registrations, Json(request, ProtocolJson.Default.RegistrationRequest), null,
            TimeSpan.FromSeconds(30), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new RegistrationRefusedException((await ReadProblemAsync(response, cancellationToken))?.Detail
                ?? "The bootstrap token was refused.");
        await EnsureSuccessAsync(response, "register", cancellationToken);
        return await ReadAsync(response, ProtocolJson.Default.RegistrationResponse, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> WaitForCommandsAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var response = await SendAuthenticatedAsync(HttpMethod.Get, $"{ProtocolV1.Commands}?wait={(int)wait.TotalSeconds}", null,
            wait + TimeSpan.FromSeconds(20), cancellationToken);
        await EnsureSuccessAsync(response, "poll for commands", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent) return [];
        return (await ReadAsync(response, ProtocolJson.Default.CommandBatch, cancellationToken)).Commands;
    }

    public async Task ReportResultAsync(Guid commandId, CommandResult result, CancellationToken cancellationToken)
    {
        using var response = await SendAuthenticatedAsync(HttpMethod.Post, ProtocolV1.CommandResult(commandId),
            () => Json(result, ProtocolJson.Default.CommandResult), TimeSpan.FromSeconds(30), cancellationToken);
        await EnsureSuccessAsync(response, "report a command result", cancellationToken);
    }

    public async Task<HeartbeatResponse> SendHeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken)
    {
        using var response = await SendAuthenticatedAsync(HttpMethod.Post, ProtocolV1.Heartbeat,
            () => Json(heartbeat, ProtocolJson.Default.HeartbeatRequest), TimeSpan.FromSeconds(30), cancellationToken);
        await EnsureSuccessAsync(response, "send a heartbeat", cancellationToken);
        return await ReadAsync(response, ProtocolJson.Default.HeartbeatResponse, cancellationToken);
    }

    public async Task RotateKeyAsync(KeyRotationRequest request, CancellationToken cancellationToken)
    {
        using var response = await SendAuthenticatedAsync(HttpMethod.Put, ProtocolV1.Key,
            () => Json(request, ProtocolJson.Default.KeyRotationRequest), TimeSpan.FromSeconds(30), cancellationToken);
        await EnsureSuccessAsync(response, "register the rotated key", cancellationToken);
    }

    public async Task PublishEncryptionKeyAsync(EncryptionKeyPublication publication, CancellationToken cancellationToken)
    {
        using var response = await SendAuthenticatedAsync(HttpMethod.Put, ProtocolV1.EncryptionKey,
            () => Json(publication, ProtocolJson.Default.EncryptionKeyPublication), TimeSpan.FromSeconds(30), cancellationToken);
        await EnsureSuccessAsync(response, "publish the encryption key", cancellationToken);
    }

    public async Task<SealedSecret?> GetSecretDeliveryAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        using var response = await SendAuthenticatedAsync(HttpMethod.Get, ProtocolV1.SecretDelivery(deliveryId), null,
            TimeSpan.FromSeconds(30), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, "hand over a sealed secret", cancellationToken);
        return await ReadAsync(response, ProtocolJson.Default.SealedSecret, cancellationToken);
    }

    public void ForgetAccessToken() => accessToken = null;

    private async Task<HttpResponseMessage> SendAuthenticatedAsync(HttpMethod method, string path, Func<HttpContent>? content, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var token = await GetAccessTokenAsync(cancellationToken);
            var response = await SendAsync(method, path, content?.Invoke(), token, timeout, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
            var problem = await ReadProblemAsync(response, cancellationToken);
            response.Dispose();
            if (problem?.Type == ProblemTypes.AgentRevoked) throw new AgentRevokedException(problem.Detail ?? "The Portal revoked this agent.");
            // Expired or replaced token: one retry with a fresh one; a second refusal is an error.
            accessToken = null;
            if (attempt == 2) throw new PortalException(401, problem?.Detail ?? "The Portal refused the agent's access token.", problem?.Type);
        }
    }

    private async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        if (accessToken is { } current && current.ExpiresAt - time.GetUtcNow() > RenewBefore) return current.Token;
        await tokenGate.WaitAsync(cancellationToken);
        try
        {
            if (accessToken is { } again && again.ExpiresAt - time.GetUtcNow() > RenewBefore) return again.Token;
            var token = await RequestTokenAsync(usePendingKey: false, cancellationToken);
            accessToken = (token.AccessToken, time.GetUtcNow().AddSeconds(token.ExpiresIn));
            return token.AccessToken;
        }
        finally
        {
            tokenGate.Release();
        }
    }

    private async Task<TokenResponse> RequestTokenAsync(bool usePendingKey, CancellationToken cancellationToken)
    {
        var assertion = session.CreateAssertion(time.GetUtcNow(), usePendingKey);
        using var response = await SendAsync(HttpMethod.Post, ProtocolV1.Token, Json(new TokenRequest(assertion), ProtocolJson.Default.TokenRequest),
            null,
            TimeSpan.FromSeconds(30), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            if (problem?.Type == ProblemTypes.AgentRevoked) throw new AgentRevokedException(problem.Detail ?? "The Portal revoked this agent.");
            // A rotation the Portal accepted but the agent did not finish recording: the pending key is the registered one now.
            if (!usePendingKey && session.HasPendingKey) return await RequestTokenAsync(usePendingKey: true, cancellationToken);
            throw new PortalException(401, problem?.Detail ?? "The Portal refused the agent's client assertion.", problem?.Type);
        }
        await EnsureSuccessAsync(response, "get an access token", cancellationToken);
        return await ReadAsync(response, ProtocolJson.Default.TokenResponse, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, string? token, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        // The Portal's last 429 holds for every call: the budget it refused is the one this call would spend.
        await retryAfter.WaitAsync(cancellationToken);
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) retryAfter.Refused(RetryAfter(response) ?? PortalRetryAfter.Default);
            return response;
        }
        catch (HttpRequestException ex)
        {
            throw new PortalException(0, $"The Portal at {http.BaseAddress} cannot be reached: {ex.Message}", inner: ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PortalException(0, $"The Portal did not answer {method} {path} within {timeout.TotalSeconds:0} s.", inner: ex);
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var problem = await ReadProblemAsync(response, cancellationToken);
        throw new PortalException((int)response.StatusCode,
            $"The Portal refused to {what} ({(int)response.StatusCode}): {problem?.Detail ?? problem?.Title ?? response.ReasonPhrase}",
                problem?.Type, retryAfter: RetryAfter(response));
    }

    /// <summary>The response's Retry-After (seconds, or an HTTP date), or null when it has none.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };

    private static async Task<ProblemDetailsMessage?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(ProtocolJson.Default.ProblemDetailsMessage, cancellationToken);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(type, cancellationToken)
        ?? throw new PortalException((int)response.StatusCode, "The Portal answered with an empty body.");

    private static HttpContent Json<T>(T value, JsonTypeInfo<T> type) => JsonContent.Create(value, type);

    public void Dispose() => http.Dispose();
}

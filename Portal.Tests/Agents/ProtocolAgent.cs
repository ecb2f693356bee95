using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// A hand-driven agent speaking protocol v1 call by call, for tests that must do what the real
/// agent never would: replay an assertion, present an expired token, poke at another tenant.
/// </summary>
public sealed class ProtocolAgent(HttpClient http, ECDsa key, RegistrationResponse registration) : IDisposable
{
    public RegistrationResponse Registration => registration;
    public Guid AgentId => registration.AgentId;
    public HttpClient Http => http;

    public static async Task<HttpResponseMessage> RegisterRawAsync(HttpClient http, string bootstrapToken, ECDsa key) =>
        await http.PostAsJsonAsync(ProtocolV1.Registrations,
            new RegistrationRequest(bootstrapToken, ProtocolKeys.ExportPublicKey(key), "test", "protocol-agent"),
                ProtocolJson.Default.RegistrationRequest);

    public static async Task<ProtocolAgent> RegisterAsync(string baseUrl, string bootstrapToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var key = ProtocolKeys.Create();
        var response = await RegisterRawAsync(http, bootstrapToken, key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new ProtocolAgent(http, key, (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.RegistrationResponse))!);
    }

    public string Assertion(DateTimeOffset? issuedAt = null, TimeSpan? lifetime = null, string? audience = null)
    {
        var iat = issuedAt ?? DateTimeOffset.UtcNow;
        return Sign(new AssertionClaims(AgentId.ToString(), AgentId.ToString(), audience ?? registration.TokenAudience, Guid.NewGuid().ToString("N"),
            iat.ToUnixTimeSeconds(), (iat + (lifetime ?? TimeSpan.FromMinutes(1))).ToUnixTimeSeconds()));
    }

    /// <summary>Any claims at all, signed with this agent's key: for assertions the real agent would never make.</summary>
    public string Sign(AssertionClaims claims) => Jws.Sign(claims, ProtocolJson.Default.AssertionClaims, ProtocolV1.AssertionJwsType, null, key);

    public Task<HttpResponseMessage> RequestTokenAsync(string assertion) =>
        http.PostAsJsonAsync(ProtocolV1.Token, new TokenRequest(assertion), ProtocolJson.Default.TokenRequest);

    public async Task<string> TokenAsync()
    {
        var response = await RequestTokenAsync(Assertion());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!.AccessToken;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    public void Dispose()
    {
        http.Dispose();
        key.Dispose();
    }
}

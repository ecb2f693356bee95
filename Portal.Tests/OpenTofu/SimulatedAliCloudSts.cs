using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// AliCloud STS on a loopback Kestrel port, for AssumeRole only. It checks a request the way AliCloud's
/// "Signature mechanism" page says the service does (its own encoding and sorting, not the Portal's:
/// a shared bug could not pass both), requires the external ID each role's trust policy names, and
/// answers in AliCloud's JSON formats: the session, or <c>{"RequestId","HostId","Code","Message","Recommend"}</c>.
/// </summary>
public sealed class SimulatedAliCloudSts : IAsyncDisposable
{
    public sealed record Issued(string RoleArn, string SessionName, string ExternalId, string AccessKeyId, string AccessKeySecret,
        string SecurityToken);

    private LoopbackServer server = null!;
    private readonly ConcurrentDictionary<string, byte> nonces = new();
    private int sessions;

    /// <summary>The Cogrion principal's key pair, as the Portal's environment would hold it.</summary>
    public Dictionary<string, string> AccessKeys { get; } = new() { ["LTAI5tPortalTestKey"] = "portal-test-secret-7Qz" };

    /// <summary>Roles that trust the Cogrion principal, with the external ID their trust policy requires.</summary>
    public ConcurrentDictionary<string, string> Roles { get; } = new();

    /// <summary>How long an issued session lasts (STS: DurationSeconds; shorter here to test renewal).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);

    public ConcurrentQueue<Issued> IssuedSessions { get; } = new();
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Requests { get; } = new();
    public string Endpoint => server.BaseUrl;

    private SimulatedAliCloudSts()
    {
    }

    public static async Task<SimulatedAliCloudSts> StartAsync()
    {
        var sts = new SimulatedAliCloudSts();
        sts.server = await LoopbackServer.StartAsync(sts.HandleAsync);
        return sts;
    }

    private async Task HandleAsync(HttpContext context)
    {
        // RPC parameters may come in the query and, for POST, as a form body; the signature covers both.
        var parameters = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (context.Request.HasFormContentType)
            foreach (var (key, value) in await context.Request.ReadFormAsync())
                parameters[key] = value.ToString();
        Requests.Enqueue(parameters);

        string Param(string name) => parameters.TryGetValue(name, out var value) ? value : "";

        if (Param("Action") != "AssumeRole" || Param("Version") != "2015-04-01")
        {
            await ErrorAsync(context, 400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
            return;
        }
        foreach (var required in new[] { "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "RoleArn",
            "RoleSessionName" })
        {
            if (Param(required).Length == 0)
            {
                await ErrorAsync(context, 400, $"MissingParameter",
                    $"The input parameter \"{required}\" that is mandatory for processing this request is not supplied.");
                return;
            }
        }
        if (Param("SignatureMethod") != "HMAC-SHA1" || Param("SignatureVersion") != "1.0" || Param("Format") != "JSON")
        {
            await ErrorAsync(context, 400, "InvalidParameter", "SignatureMethod, SignatureVersion or Format is not supported.");
            return;
        }
        if (!DateTimeOffset.TryParseExact(Param("Timestamp"), "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var timestamp)
            || (DateTimeOffset.UtcNow - timestamp).Duration() > TimeSpan.FromMinutes(15))
        {
            await ErrorAsync(context, 400, "InvalidTimeStamp.Expired",
                $"Specified time stamp or date value is expired. Timestamp: {Param("Timestamp")}");
            return;
        }
        if (!AccessKeys.TryGetValue(Param("AccessKeyId"), out var secret))
        {
            await ErrorAsync(context, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
            return;
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ExpectedSignature(context.Request.Method, parameters, secret)),
            Encoding.ASCII.GetBytes(Param("Signature"))))
        {
            await ErrorAsync(context, 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
            return;
        }
        if (!nonces.TryAdd(Param("SignatureNonce"), 0))
        {
            await ErrorAsync(context, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
            return;
        }
        if (!Roles.TryGetValue(Param("RoleArn"), out var externalId))
        {
            await ErrorAsync(context, 404, "EntityNotExist.Role", $"The role not exists: {Param("RoleArn")}.");
            return;
        }
        // A trust policy with a StringEquals sts:ExternalId condition: no ID, or another one, is refused.
        if (Param("ExternalId") != externalId)
        {
            await ErrorAsync(context, 403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM.");
            return;
        }

        var n = Interlocked.Increment(ref sessions);
        var issued = new Issued(Param("RoleArn"), Param("RoleSessionName"), Param("ExternalId"),
            $"STS.NSession{n:D4}Key", $"session-secret-{n}-{Guid.NewGuid():N}", $"CAIS-session-token-{n}-{Guid.NewGuid():N}");
        IssuedSessions.Enqueue(issued);
        var accountId = Param("RoleArn").Split(':')[3];
        var roleName = Param("RoleArn").Split('/')[^1];
        await JsonAsync(context, 200, new JsonObject
        {
            ["RequestId"] = Guid.NewGuid().ToString().ToUpperInvariant(),
            ["AssumedRoleUser"] = new JsonObject
            {
                ["Arn"] = $"acs:ram::{accountId}:assumed-role/{roleName}/{issued.SessionName}",
                ["AssumedRoleId"] = $"34458433936495****:{issued.SessionName}",
            },
            ["Credentials"] = new JsonObject
            {
                ["AccessKeyId"] = issued.AccessKeyId,
                ["AccessKeySecret"] = issued.AccessKeySecret,
                ["SecurityToken"] = issued.SecurityToken,
                ["Expiration"] = (DateTimeOffset.UtcNow + SessionLifetime).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
        });
    }

    /// <summary>
    /// The documented algorithm, written independently of the Portal's: RFC 3986 escaping
    /// (Uri.EscapeDataString leaves exactly A-Z a-z 0-9 - _ . ~ alone), ordinal sort, key = secret + "&amp;".
    /// </summary>
    public static string ExpectedSignature(string method, IReadOnlyDictionary<string, string> parameters, string secret)
    {
        var canonical = string.Join("&", parameters.Where(p => p.Key != "Signature").OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        var stringToSign = method + "&" + Uri.EscapeDataString("/") + "&" + Uri.EscapeDataString(canonical);
        using var hmac = new HMACSHA1(Encoding.UTF8.GetBytes(secret + "&"));
        return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        JsonAsync(context, status, new JsonObject
        {
            ["RequestId"] = Guid.NewGuid().ToString().ToUpperInvariant(),
            ["HostId"] = "sts.aliyuncs.com",
            ["Code"] = code,
            ["Message"] = message,
            ["Recommend"] = $"https://api.aliyun.com/troubleshoot?q={code}&product=Sts",
        });

    private static async Task JsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json;charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
    }
}

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>Settings the Portal under test runs with. The client secret is random per run, so a test can prove it never leaks.</summary>
public static class TestSettings
{
    public static readonly string ClientSecret = "test-secret-" + Guid.NewGuid().ToString("N");

    /// <summary>The key that encrypts the Data Protection key ring in the database; one per run, shared by every Portal the run starts (as replicas
    /// share it).</summary>
    public static readonly string KeyEncryptionKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    public const string ClientId = "cogrion-portal";
    public const string Realm = "cogrion";
    public const string BaseDomain = "cogrion.test";

    public static Dictionary<string, string?> PortalConfiguration(string connectionString, string keycloakAuthority) => new()
    {
        ["Database:ConnectionString"] = connectionString,
        ["Keycloak:Authority"] = keycloakAuthority,
        ["Keycloak:Realm"] = Realm,
        ["Keycloak:ClientId"] = ClientId,
        ["Keycloak:ClientSecret"] = ClientSecret,
        ["Keycloak:RequireHttps"] = "false",
        ["DataProtection:KeyEncryptionKey"] = KeyEncryptionKey,
        ["Platform:BaseDomain"] = BaseDomain,
        ["CloudAccounts:AwsPrincipalArn"] = AwsPrincipalArn,
        ["CloudAccounts:AliCloudPrincipal"] = AliCloudPrincipal,
    };

    public const string AwsPrincipalArn = "arn:aws:iam::111122223333:role/cogrion-portal-test";
    public const string AliCloudPrincipal = "acs:ram::1234567890123456:role/cogrion-portal-test";

    /// <summary>The same settings as environment variables, for a Portal started as a process.</summary>
    public static Dictionary<string, string?> AsEnvironment(IDictionary<string, string?> configuration) =>
        configuration.ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value);
}

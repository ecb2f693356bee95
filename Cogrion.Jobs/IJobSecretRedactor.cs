namespace Cogrion.Jobs;

/// <summary>
/// Keeps secret values out of what the engine stores and shows: arguments whose keys name a secret
/// are refused at enqueue (ADR 0011), and log lines, error messages and stack traces are masked
/// before they are written. The host provides it, because only the host knows its secrets.
/// </summary>
public interface IJobSecretRedactor
{
    /// <summary>True when an argument key names a secret (password, token, credential, …).</summary>
    bool IsSecretKey(string key);

    /// <summary><paramref name="text"/> with every secret value the host knows masked.</summary>
    string Redact(string text);
}

using System.Security.Cryptography;

namespace Cogrion.Jobs;

/// <summary>
/// Who holds a job: host name + process id + a random suffix. The suffix tells apart two
/// processes that reuse a pid (a container restarted with the same hostname gets pid 1 again), so
/// a restarted replica never mistakes its predecessor's jobs for its own.
/// </summary>
internal sealed record WorkerIdentity(string Host, int ProcessId, string Suffix)
{
    public string Id => $"{Host}:{ProcessId}:{Suffix}";

    public static WorkerIdentity ForThisProcess() =>
        new(Environment.MachineName, Environment.ProcessId, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)));

    public override string ToString() => Id;
}

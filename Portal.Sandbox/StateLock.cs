using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// OpenTofu's state lock, as the S3 backend takes it with <c>use_lockfile = true</c>: an object next to
/// the state, named like it plus <c>.tflock</c>, holding the lock's info as JSON, written only if no
/// such object exists (S3's <c>If-None-Match: *</c>; here, an exclusive hard link). Plan and apply take
/// it and release it when they end, however they end, unless the process is killed: then the lock
/// stays, and <c>tofu force-unlock -force ID</c> releases it.
/// Texts as OpenTofu 1.10's (internal/command/clistate/state.go, internal/states/statemgr/locker.go,
/// internal/backend/remote-state/s3/client.go, internal/command/unlock.go).
/// </summary>
public sealed class StateLock
{
    public const string Suffix = ".tflock";

    private const string LockErrorMessage =
        "Error message: {0}\n\nOpenTofu acquires a state lock to protect the state from being written\n" +
        "by multiple users at the same time. Please resolve the issue above and try\n" +
        "again. For most commands, you can disable locking with the \"-lock=false\"\nflag, but this is not recommended.";

    private const string UnlockErrorMessage =
        "Error message: {0}\n\nOpenTofu acquires a lock when accessing your state to prevent others\n" +
        "running OpenTofu to potentially modify the state at the same time. An\nerror occurred while releasing this lock. " +
        "This could mean that the lock\ndid or did not release properly. If the lock didn't release properly,\n" +
        "OpenTofu may not be able to run future commands since it'll appear as if\nthe lock is held.\n\n" +
        "In this scenario, please call the \"force-unlock\" command to unlock the\nstate manually. This is a very dangerous operation since if it " +
            "is done\n" +
        "erroneously it could result in two people modifying state at the same time.\nOnly call this command if you're certain that the unlock " +
            "above failed and\n" +
        "that no one else is holding a lock.";

    /// <summary>What S3 answers a conditional put of an object that exists.</summary>
    private static string PreconditionFailed()
    {
        var requestId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var hostId = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        return $"operation error S3: PutObject, https response error StatusCode: 412, RequestID: {requestId}, HostID: {hostId}, "
            + "api error PreconditionFailed: At least one of the pre-conditions you specified did not hold";
    }

    private readonly string statePath;

    public LockInfo Info { get; }

    private StateLock(string statePath, LockInfo info)
    {
        this.statePath = statePath;
        Info = info;
    }

    public static string LockPath(string statePath) => statePath + Suffix;

    /// <summary>Takes the lock for <paramref name="operation"/> (<c>OperationTypePlan</c>, <c>OperationTypeApply</c>) or fails with OpenTofu's lock
    /// error.</summary>
    public static StateLock Acquire(string statePath, string operation)
    {
        var info = LockInfo.New(statePath, operation);
        var lockPath = LockPath(statePath);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var written = lockPath + "." + info.Id + ".tmp";
        File.WriteAllText(written, info.Marshal());
        try
        {
            // A move that refuses an existing destination is a hard link on Linux: atomic, like a conditional put.
            File.Move(written, lockPath, overwrite: false);
            return new StateLock(statePath, info);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            File.Delete(written);
            var held = Read(lockPath);
            throw new SandboxError(Diagnostic.Error("Error acquiring the state lock",
                string.Format(CultureInfo.InvariantCulture, LockErrorMessage, PreconditionFailed() + "\n"
                    + (held?.ToString() ?? new LockInfo().ToString()))));
        }
    }

    /// <summary>Releases the lock if it is still this one's; otherwise OpenTofu's unlock error (someone force-unlocked it).</summary>
    public Diagnostic? Release() => Unlock(statePath, Info.Id) is { } problem
        ? Diagnostic.Error("Error releasing the state lock", string.Format(CultureInfo.InvariantCulture, UnlockErrorMessage, problem))
        : null;

    /// <summary>
    /// Removes the lock with this id. Null when done; otherwise the error as OpenTofu's S3 client words it
    /// (a missing lock object reads as an empty lock info, whose id matches nothing).
    /// </summary>
    public static string? Unlock(string statePath, string id)
    {
        var lockPath = LockPath(statePath);
        var held = File.Exists(lockPath) ? Read(lockPath) : new LockInfo();
        if (held is null) return $"failed to retrieve s3 lock info: empty lock info found for \"{Path.GetFileName(lockPath)}\" in the s3 bucket: " +
            $"{Path.GetDirectoryName(lockPath)}";
        if (held.Id != id) return $"lock id \"{id}\" from s3 does not match existing lock\n{held}";
        File.Delete(lockPath);
        return null;
    }

    private static LockInfo? Read(string lockPath)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(lockPath)) is JsonObject json ? LockInfo.FromJson(json) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }
}

/// <summary>OpenTofu's <c>statemgr.LockInfo</c>: stored as JSON (Go's field names and order), shown with its <c>String()</c> template.</summary>
public sealed record LockInfo
{
    public string Id { get; init; } = "";
    public string Operation { get; init; } = "";
    public string Info { get; init; } = "";
    public string Who { get; init; } = "";
    public string Version { get; init; } = "";
    public DateTimeOffset? Created { get; init; }
    public string Path { get; init; } = "";

    public static LockInfo New(string statePath, string operation) => new()
    {
        Id = Guid.NewGuid().ToString(),
        Operation = operation,
        Who = $"{Environment.UserName}@{Environment.MachineName}",
        Version = Program.TofuVersion,
        Created = DateTimeOffset.UtcNow,
        Path = statePath,
    };

    public string Marshal() => new JsonObject
    {
        ["ID"] = Id,
        ["Operation"] = Operation,
        ["Info"] = Info,
        ["Who"] = Who,
        ["Version"] = Version,
        // Go marshals a time as RFC 3339 with nanoseconds, trailing zeros dropped.
        ["Created"] = (Created ?? DateTimeOffset.MinValue).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        ["Path"] = Path,
    }.ToJsonString();

    public static LockInfo FromJson(JsonObject json) => new()
    {
        Id = Text(json, "ID"),
        Operation = Text(json, "Operation"),
        Info = Text(json, "Info"),
        Who = Text(json, "Who"),
        Version = Text(json, "Version"),
        Created = DateTimeOffset.TryParse(Text(json, "Created"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? created : null,
        Path = Text(json, "Path"),
    };

    private static string Text(JsonObject json, string name) => json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>() : "";

    /// <summary>A time as Go's <c>time.Time.String()</c> prints it in UTC (the zero time when there is none).</summary>
    private static string GoTime(DateTimeOffset? time) =>
        (time ?? DateTimeOffset.MinValue).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture) + " +0000 UTC";

    /// <summary>OpenTofu's <c>LockInfo.String()</c>.</summary>
    public override string ToString() =>
        "Lock Info:\n" +
        $"  ID:        {Id}\n" +
        $"  Path:      {Path}\n" +
        $"  Operation: {Operation}\n" +
        $"  Who:       {Who}\n" +
        $"  Version:   {Version}\n" +
        $"  Created:   {GoTime(Created)}\n" +
        $"  Info:      {Info}\n";
}

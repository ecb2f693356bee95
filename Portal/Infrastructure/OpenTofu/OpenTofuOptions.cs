using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>Where the <c>tofu</c> executables are, which versions are accepted, and how runs are stopped.</summary>
public sealed class OpenTofuOptions
{
    public const string Section = "OpenTofu";

    /// <summary>
    /// The real OpenTofu executable for aws and alicloud runs: a bare name is looked up on PATH when the
    /// run starts, a path is used as it is.
    /// </summary>
    public string Executable { get; set; } = "tofu";

    /// <summary>
    /// The oldest OpenTofu accepted. 1.10 because the S3 backend locks state with a lock file next to
    /// it only from 1.10 on (docs/adr/0043): older versions would need a DynamoDB table in every tenant account.
    /// </summary>
    public string MinimumVersion { get; set; } = "1.10.7";

    /// <summary>The simulator that serves sandbox runs; the Portal ships it next to its own binary.</summary>
    public string SandboxExecutable { get; set; } = Path.Combine(AppContext.BaseDirectory, "tofu-sandbox");

    /// <summary>
    /// Pacing of the sandbox: simulated seconds per real second (an EKS cluster "takes" about ten
    /// minutes). 20 makes a whole workspace about a minute; tests use thousands.
    /// </summary>
    public double SandboxSpeed { get; set; } = 20;

    /// <summary>Where runs get their working directories (one per run, deleted by the caller when done).</summary>
    public string WorkRoot { get; set; } = Path.Combine(Path.GetTempPath(), "cogrion-tofu");

    /// <summary>
    /// How long a cancelled <c>tofu</c> may take to stop after its interrupt before it is killed.
    /// Generous, because an interrupted apply waits for in-flight cloud calls and then writes state;
    /// killing it earlier can leave the state locked or out of date.
    /// </summary>
    public TimeSpan CancelGracePeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// AliCloud's STS, where the runner assumes a tenant's RAM role (with its external ID) before each
    /// alicloud <c>tofu</c> process (docs/adr/0052). The global endpoint serves every region; a regional
    /// or VPC endpoint (https://sts-vpc.cn-hangzhou.aliyuncs.com) keeps the call off the internet.
    /// </summary>
    public string AliCloudStsEndpoint { get; set; } = "https://sts.aliyuncs.com";

    public string ExecutableFor(TofuProvider provider) =>
        provider == TofuProvider.Sandbox ? SandboxExecutable : Executable;

    public Version ParsedMinimumVersion => TofuVersion.Parse(MinimumVersion)
        ?? throw new InvalidOperationException($"{Section}:{nameof(MinimumVersion)} '{MinimumVersion}' is not a version.");
}

public sealed class OpenTofuOptionsValidator : IValidateOptions<OpenTofuOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenTofuOptions options)
    {
        var errors = new ValidationErrors(OpenTofuOptions.Section);
        errors.RequireText(nameof(options.Executable), options.Executable);
        errors.RequireText(nameof(options.SandboxExecutable), options.SandboxExecutable);
        errors.RequireText(nameof(options.WorkRoot), options.WorkRoot);
        if (TofuVersion.Parse(options.MinimumVersion) is null)
            errors.Add(nameof(options.MinimumVersion), $"must be a version such as 1.10.0; '{options.MinimumVersion}' is not.");
        if (!string.IsNullOrWhiteSpace(options.WorkRoot) && !Path.IsPathRooted(options.WorkRoot))
            errors.Add(nameof(options.WorkRoot), $"must be an absolute path; '{options.WorkRoot}' is not.");
        if (options.SandboxSpeed is <= 0 or > 1_000_000 || double.IsNaN(options.SandboxSpeed))
            errors.Add(nameof(options.SandboxSpeed), "must be a positive number of simulated seconds per second (20 for demos).");
        if (!Uri.TryCreate(options.AliCloudStsEndpoint, UriKind.Absolute, out var sts) || sts.Scheme is not ("https" or "http")
            || !string.IsNullOrEmpty(sts.Query))
            errors.Add(nameof(options.AliCloudStsEndpoint),
                $"must be an absolute URL such as https://sts.aliyuncs.com; '{options.AliCloudStsEndpoint}' is not.");
        if (options.CancelGracePeriod < TimeSpan.FromSeconds(1) || options.CancelGracePeriod > TimeSpan.FromMinutes(30))
            errors.Add(nameof(options.CancelGracePeriod), "must be between 00:00:01 and 00:30:00.");
        return errors.ToResult();
    }
}

using System.Globalization;

namespace Cogrion.Sandbox;

/// <summary>
/// How this run behaves: its pace, and the failure a workspace's name asks for (docs/sandbox.md).
/// Names rather than flags because a name is what a person can choose in the Portal's wizard.
/// </summary>
public sealed record Scenario(double Speed, bool FailPlan, bool FailApply, bool IgnoreInterrupt)
{
    /// <summary>Simulated seconds per real second when TOFU_SANDBOX_SPEED is not set: a workspace takes about a minute.</summary>
    public const double DefaultSpeed = 20;

    /// <summary>
    /// Bootstrap runs have no workspace name: their failure is asked for by the assumed role (its ARN or
    /// session name containing <see cref="BootstrapStack.FailureMarker"/>), the one thing of the cloud
    /// account that reaches the simulator.
    /// </summary>
    public bool FailBootstrap { get; init; }

    public static Scenario For(string workspaceName, RootModule? root = null)
    {
        var speed = double.TryParse(Environment.GetEnvironmentVariable("TOFU_SANDBOX_SPEED"), NumberStyles.Float, CultureInfo.InvariantCulture,
            out var s) && s > 0 ? s : DefaultSpeed;
        var slow = workspaceName.StartsWith("slow-", StringComparison.Ordinal);
        return new Scenario(
            slow ? speed / 100 : speed,
            workspaceName.StartsWith("fail-plan-", StringComparison.Ordinal),
            workspaceName.StartsWith("fail-apply-", StringComparison.Ordinal),
            Environment.GetEnvironmentVariable("TOFU_SANDBOX_IGNORE_INTERRUPT") == "1")
        {
            FailBootstrap = root is not null
                && (root.RoleArn.Contains(BootstrapStack.FailureMarker, StringComparison.Ordinal)
                    || root.RoleSessionName.Contains(BootstrapStack.FailureMarker, StringComparison.Ordinal)),
        };
    }

    /// <summary>Waits for <paramref name="simulatedSeconds"/> of simulated time.</summary>
    public Task PauseAsync(double simulatedSeconds, CancellationToken cancellationToken) =>
        simulatedSeconds <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromSeconds(simulatedSeconds / Speed), cancellationToken);
}

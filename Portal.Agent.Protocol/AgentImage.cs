using System.Text.RegularExpressions;

namespace Cogrion.Agent.Protocol;

/// <summary>
/// A Cluster Agent image, always pinned: registry/repository:VERSION, optionally @sha256:DIGEST.
/// Never "latest" or any other moving tag: which agent runs where must be knowable (issue 11). The
/// version in the tag is the version the agent reports in its heartbeats.
/// </summary>
public sealed partial record AgentImage(string Repository, string Version, string? Digest)
{
    [GeneratedRegex(@"^(?<repository>[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+)?/[a-z0-9._/-]+)"
        + @":v?(?<version>\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?)(@(?<digest>sha256:[0-9a-f]{64}))?$")]
    private static partial Regex Pinned();

    public override string ToString() => Digest is null ? $"{Repository}:{Version}" : $"{Repository}:{Version}@{Digest}";

    public static bool TryParse(string? text, out AgentImage? image)
    {
        image = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var match = Pinned().Match(text.Trim());
        if (!match.Success) return false;
        image = new AgentImage(match.Groups["repository"].Value, match.Groups["version"].Value,
            match.Groups["digest"].Success ? match.Groups["digest"].Value : null);
        return true;
    }

    public const string Rule = "registry/repository:X.Y.Z (a version, never 'latest'), optionally @sha256:<64 hex digits>";
}

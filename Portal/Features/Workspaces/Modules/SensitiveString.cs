namespace Cogrion.Portal.Features.Workspaces.Modules;

/// <summary>
/// A secret value on its way to OpenTofu (today: the agent's one-time bootstrap token). It prints as
/// a mask, so a record's generated <c>ToString</c>, a log message or an exception text cannot show it,
/// and it has no public properties, so serialising an object that contains it writes <c>{}</c>. The
/// only way to the value is <see cref="Reveal"/>, called where it is written to the sensitive tfvars file.
/// </summary>
public sealed class SensitiveString : IEquatable<SensitiveString>
{
    public const string Mask = "[sensitive]";

    private readonly string value;

    public SensitiveString(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        this.value = value;
    }

    /// <summary>The secret itself. Call it only to write the sensitive tfvars file.</summary>
    public string Reveal() => value;

    public override string ToString() => Mask;

    public bool Equals(SensitiveString? other) => other is not null && string.Equals(value, other.value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is SensitiveString other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(value);
}

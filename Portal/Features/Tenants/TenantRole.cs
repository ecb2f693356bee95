namespace Cogrion.Portal.Features.Tenants;

/// <summary>
/// A person's role within a tenant, weakest first. The numeric order is the order of power, the
/// same order as the database enum <c>tenant_role</c>, so "at least operator" is a comparison.
/// </summary>
public enum TenantRole
{
    /// <summary>Reads everything of the tenant.</summary>
    Viewer = 1,

    /// <summary>Also runs and approves runs, installs apps.</summary>
    Operator = 2,

    /// <summary>Also manages members, cloud accounts, workspaces, child tenants and support access.</summary>
    Admin = 3,
}

public static class TenantRoles
{
    public static readonly IReadOnlyList<TenantRole> All = [TenantRole.Viewer, TenantRole.Operator, TenantRole.Admin];

    /// <summary>The spelling stored in the database and used in the API ("viewer", "operator", "admin").</summary>
    public static string ToText(this TenantRole role) => role switch
    {
        TenantRole.Viewer => "viewer",
        TenantRole.Operator => "operator",
        TenantRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown tenant role."),
    };

    public static bool TryParse(string? text, out TenantRole role)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToText(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                role = candidate;
                return true;
            }
        }
        role = default;
        return false;
    }

    public static TenantRole Parse(string text) =>
        TryParse(text, out var role) ? role : throw new FormatException($"'{text}' is not a tenant role.");

    public const string ParseError = "Choose one of: viewer, operator, admin.";
}

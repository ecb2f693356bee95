namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// The sandbox cloud's roles. A sandbox account's role exists until the tenant deletes it, which in the sandbox is a marker file under
/// <see cref="ProvisioningOptions.SandboxStateRoot"/> (<c>roles/&lt;account ref&gt;.deleted</c>), written by the offboarding page's
/// "delete the role (simulated)": from then on the sandbox refuses to assume it, as a cloud refuses a deleted role.
/// </summary>
public static class SandboxRoles
{
    public static string MarkerOf(string sandboxStateRoot, string accountRef) =>
        Path.Combine(sandboxStateRoot, "roles", $"{string.Concat(accountRef.Where(char.IsAsciiLetterOrDigit))}.deleted");

    public static bool IsDeleted(string sandboxStateRoot, string accountRef) => File.Exists(MarkerOf(sandboxStateRoot, accountRef));

    public static async Task DeleteAsync(string sandboxStateRoot, string accountRef, CancellationToken cancellationToken)
    {
        var marker = MarkerOf(sandboxStateRoot, accountRef);
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        await File.WriteAllTextAsync(marker, "deleted by the tenant (simulated)\n", cancellationToken);
    }
}

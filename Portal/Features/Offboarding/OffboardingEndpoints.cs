using System.Security.Claims;
using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Cogrion.Portal.Features.Offboarding;

/// <summary>The start as an API, the bundle and certificate downloads of the person who started it, and the certificate key for everyone.</summary>
public sealed record StartOffboardingRequest(string? Confirmation, IReadOnlyDictionary<Guid, string>? Workspaces, string? Purge);

public sealed record OffboardingResponse(Guid Id, string Status, string Step, string Page);

public static class OffboardingEndpoints
{
    /// <summary>Where anyone fetches the public key that verifies deletion certificates (PEM, SubjectPublicKeyInfo).</summary>
    public const string PublicKeyPath = "/.well-known/cogrion/deletion-certificate-key.pem";

    public static string PagePath(Guid id) => $"/offboardings/{id}";

    public static string BundlePath(Guid id) => $"/api/v1/offboardings/{id}/bundle";

    public static string CertificatePath(Guid id) => $"/api/v1/offboardings/{id}/certificate";

    public static IEndpointRouteBuilder MapOffboardingEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(PublicKeyPath, async (CertificateKeys keys, CancellationToken cancellationToken) =>
            Results.Text((await keys.GetAsync(cancellationToken)).PublicKeyPem, "application/x-pem-file"))
            .AllowAnonymous().ExcludeFromDescription();
        endpoints.MapPost("/api/v1/tenants/{tenant}/offboarding", StartAsync).RequireTenantRole(TenantRole.Admin)
            .Produces<OffboardingResponse>(StatusCodes.Status202Accepted);
        endpoints.MapGet("/api/v1/offboardings/{id:guid}/bundle", BundleAsync).WithMetadata(new UserScopedAttribute())
            .Produces(StatusCodes.Status200OK, contentType: "application/zip");
        endpoints.MapGet("/api/v1/offboardings/{id:guid}/certificate", CertificateAsync).WithMetadata(new UserScopedAttribute())
            .Produces<SignedCertificate>();
        return endpoints;
    }

    private static async Task<IResult> StartAsync(StartOffboardingRequest request, TenantContext context, ClaimsPrincipal user,
        OffboardingCommands commands, CancellationToken cancellationToken)
    {
        var fates = new Dictionary<Guid, WorkspaceFate>();
        foreach (var (workspace, fate) in request.Workspaces ?? new Dictionary<Guid, string>())
        {
            if (!Enum.TryParse<WorkspaceFate>(fate, ignoreCase: true, out var parsed) || int.TryParse(fate, out _))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["workspaces"] = [$"{workspace}: keep or destroy."] });
            fates[workspace] = parsed;
        }
        var purge = request.Purge?.ToLowerInvariant() switch
        {
            null or "after_retention" => PurgeTiming.AfterRetention,
            "immediately" => PurgeTiming.Immediately,
            _ => (PurgeTiming?)null,
        };
        if (purge is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["purge"] = ["immediately or after_retention."] });
        var result = await commands.StartAsync(context, new OffboardingRequest(request.Confirmation, fates, purge.Value), user.AsActor(),
            cancellationToken);
        if (result.IsNotFound) return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such tenant.");
        if (!result.Succeeded) return TypedResults.ValidationProblem(result.Errors.ToDictionary());
        return TypedResults.Accepted(PagePath(result.Value),
            new OffboardingResponse(result.Value, "running", "export", PagePath(result.Value)));
    }

    private static async Task<IResult> BundleAsync(Guid id, ClaimsPrincipal user, OffboardingDownloads downloads,
        CancellationToken cancellationToken) =>
        await downloads.BundleAsync(id, user, cancellationToken) is { } bundle
            ? Results.File(bundle.Content, "application/zip", bundle.FileName)
            : NoSuchOffboarding();

    private static async Task<IResult> CertificateAsync(Guid id, ClaimsPrincipal user, OffboardingDownloads downloads,
        CancellationToken cancellationToken) =>
        await downloads.CertificateAsync(id, user, cancellationToken) is { } certificate
            ? Results.File(certificate.Content, "application/json", certificate.FileName)
            : NoSuchOffboarding();

    // Someone else's offboarding, or one not finished, looks exactly like one that does not exist.
    private static IResult NoSuchOffboarding() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such offboarding, or its file is not ready.");
}

public sealed record DownloadFile(byte[] Content, string FileName);

/// <summary>
/// Who may take an offboarding's files: the person who started it (their membership is gone by then, so not a tenant rule), or a
/// platform admin. Anyone else gets "not found".
/// </summary>
public sealed class OffboardingDownloads(OffboardingStore store, TenantAccess access, Npgsql.NpgsqlDataSource dataSource)
{
    public async Task<OffboardingRecord?> VisibleAsync(Guid id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var offboarding = await store.FindAsync(id, cancellationToken);
        if (offboarding is null) return null;
        var userId = user.GetUserId();
        return (userId is not null && offboarding.RequestedBy == userId) || await access.IsPlatformAdminAsync(user) ? offboarding : null;
    }

    public async Task<DownloadFile?> BundleAsync(Guid id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (await VisibleAsync(id, user, cancellationToken) is not { HasBundle: true } offboarding) return null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var bundle = await Dapper.SqlMapper.QuerySingleOrDefaultAsync<byte[]>(connection, new Dapper.CommandDefinition(
            "select bundle from offboardings where id = @id", new { id }, cancellationToken: cancellationToken));
        return bundle is null ? null : new DownloadFile(bundle, $"cogrion-offboarding-{offboarding.TenantSlug}.zip");
    }

    public async Task<DownloadFile?> CertificateAsync(Guid id, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await VisibleAsync(id, user, cancellationToken) is { Certificate: { } certificate } offboarding
            ? new DownloadFile(System.Text.Encoding.UTF8.GetBytes(certificate), $"cogrion-deletion-certificate-{offboarding.TenantSlug}.json")
            : null;
}

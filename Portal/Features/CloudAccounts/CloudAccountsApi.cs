using Cogrion.Portal.Features.Tenants;
using Cogrion.Portal.Features.Tenants.Access;
using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Database;
using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Features.CloudAccounts;

/// <summary>/api/v1/tenants/{tenant}/cloud-accounts: connect, read (with the trust documents) and verify.</summary>
public static class CloudAccountsApi
{
    public sealed record ConnectRequest(string? Provider, string? Name, string? AccountRef);
    public sealed record VerifyRequest(string? RoleArn);

    public sealed record CloudAccountResponse(
        Guid Id, string Provider, string Name, string AccountRef, string RoleArn, string ExternalId, string Status,
        string? StatusReason, string? VerifiedIdentity, DateTimeOffset? VerifiedAt, string? TrustPolicy, string? OpenTofuSnippet)
    {
        public static CloudAccountResponse From(CloudAccount a, CloudAccountsOptions options)
        {
            var setup = TrustSetupBuilder.For(a, options);
            return new(a.Id, a.Provider.ToKey(), a.Name, a.AccountRef, a.RoleArn, a.ExternalId, a.Status.ToDbText(),
                a.StatusReason, a.VerifiedIdentity, a.VerifiedAt, setup?.TrustPolicyJson, setup?.OpenTofuSnippet);
        }
    }

    public static IEndpointRouteBuilder MapCloudAccountsApi(this IEndpointRouteBuilder endpoints)
    {
        var accounts = endpoints.MapGroup("/api/v1/tenants/{tenant}/cloud-accounts").WithTags("Cloud accounts");
        accounts.MapGet("", ListAsync).RequireTenantRole(TenantRole.Viewer);
        accounts.MapPost("", ConnectAsync).RequireTenantRole(TenantRole.Admin);
        accounts.MapGet("/{accountId:guid}", GetAsync).RequireTenantRole(TenantRole.Viewer);
        accounts.MapPost("/{accountId:guid}/verify", VerifyAsync).RequireTenantRole(TenantRole.Admin);
        return endpoints;
    }

    private static async Task<Ok<CloudAccountResponse[]>> ListAsync(TenantContext tenant, CloudAccountStore store,
        IOptions<CloudAccountsOptions> options, CancellationToken cancellationToken) =>
        TypedResults.Ok((await store.ListAsync(tenant.TenantId, cancellationToken)).Select(a => CloudAccountResponse.From(a, options.Value))
            .ToArray());

    private const string NoSuchAccount = "No such cloud account in this tenant.";

    private static ProblemHttpResult AccountNotFound() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: NoSuchAccount);

    private static async Task<Results<Ok<CloudAccountResponse>,
        ProblemHttpResult>> GetAsync(Guid accountId, TenantContext tenant, CloudAccountStore store, IOptions<CloudAccountsOptions> options,
        CancellationToken cancellationToken) =>
        await store.FindAsync(tenant.TenantId, accountId, cancellationToken) is { } account
            ? TypedResults.Ok(CloudAccountResponse.From(account, options.Value))
            : AccountNotFound();

    private static async Task<Results<Created<CloudAccountResponse>, ValidationProblem>> ConnectAsync(
        ConnectRequest request, TenantContext tenant, HttpContext http, CloudAccountCommands commands, IOptions<CloudAccountsOptions> options,
            CancellationToken cancellationToken)
    {
        if (request.Provider is not ("aws" or "alicloud" or "sandbox"))
            return TypedResults.ValidationProblem(FieldErrors.Single("provider", "Choose aws, alicloud or sandbox.").ToDictionary());
        var result = await commands.ConnectAsync(tenant,
            new NewCloudAccount(CloudProviderText.Parse(request.Provider), request.Name, request.AccountRef), http.User.AsActor(), cancellationToken);
        return result.Succeeded
            ? TypedResults.Created($"/api/v1/tenants/{tenant.Slug}/cloud-accounts/{result.Value!.Id}",
                CloudAccountResponse.From(result.Value, options.Value))
            : TypedResults.ValidationProblem(result.Errors.ToDictionary());
    }

    private static async Task<Results<Accepted<CloudAccountResponse>, ValidationProblem, ProblemHttpResult>> VerifyAsync(
        Guid accountId, VerifyRequest request, TenantContext tenant, HttpContext http, CloudAccountCommands commands,
            IOptions<CloudAccountsOptions> options, CancellationToken cancellationToken)
    {
        var result = await commands.VerifyAsync(tenant, accountId, request.RoleArn, http.User.AsActor(), cancellationToken);
        if (result.IsNotFound) return AccountNotFound();
        return result.Succeeded
            ? TypedResults.Accepted($"/api/v1/tenants/{tenant.Slug}/cloud-accounts/{accountId}",
                CloudAccountResponse.From(result.Value!, options.Value))
            : TypedResults.ValidationProblem(result.Errors.ToDictionary());
    }
}

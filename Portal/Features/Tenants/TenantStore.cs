using Cogrion.Portal.Infrastructure.Audit;
using Cogrion.Portal.Infrastructure.Configuration;
using Cogrion.Portal.Infrastructure.Http;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>What a person asks for when creating a tenant. A null domain means "the default".</summary>
public sealed record NewTenant(string? Name, string? Slug, string? Domain = null, Guid? ParentId = null);

/// <summary>
/// Tenants themselves: creating (root or child), renaming, moving the domain, reading a subtree.
/// Every change runs in one transaction with its audit event; a refused change leaves nothing behind.
/// Callers have already checked the person's access with <see cref="Access.TenantAccess"/>.
/// </summary>
public sealed class TenantStore(NpgsqlDataSource dataSource, AuditLog audit, IOptions<PlatformOptions> platform)
{
    private const string TenantColumns = "id, parent_id, slug, name, domain, created_at";

    public string BaseDomain => platform.Value.BaseDomain;

    public async Task<Tenant?> FindAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Tenant>(new CommandDefinition(
            $"select {TenantColumns} from tenants where id = @tenantId", new { tenantId }, cancellationToken: cancellationToken));
    }

    public async Task<bool> IsSlugTakenAsync(string slug, CancellationToken cancellationToken)
    {
        if (!TenantRules.CanExist(slug)) return false;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from tenants where slug = @slug)", new { slug }, cancellationToken: cancellationToken));
    }

    /// <summary>The zone a new tenant's domain must sit in: its parent's domain, or the platform's base domain.</summary>
    public async Task<string?> ParentZoneAsync(Guid? parentId, CancellationToken cancellationToken) =>
        parentId is { } id ? (await FindAsync(id, cancellationToken))?.Domain : BaseDomain;

    /// <summary>
    /// Checks a proposed tenant as the wizard needs it (shape and availability) without creating it.
    /// The same checks run again inside <see cref="CreateAsync"/>: availability can change in between.
    /// </summary>
    public async Task<FieldErrors> ValidateAsync(NewTenant request, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var zone = request.ParentId is { } parentId ? await ParentDomainAsync(connection, null, parentId, cancellationToken) : BaseDomain;
        if (zone is null) return FieldErrors.Single("parent", "The parent tenant does not exist.");
        return await CheckNewAsync(connection, null, request, zone, cancellationToken);
    }

    /// <summary>
    /// Creates a tenant and makes <paramref name="creator"/> its admin. <paramref name="alsoInTransaction"/>
    /// lets a caller record its own consequence (the wizard's progress) in the same transaction.
    /// </summary>
    public async Task<CommandResult<Tenant>> CreateAsync(NewTenant request, Guid creator, string creatorName, CancellationToken cancellationToken,
        Func<Tenant, NpgsqlTransaction, Task>? alsoInTransaction = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var zone = request.ParentId is { } parentId
            // FOR SHARE: the parent cannot be deleted or change its domain while its child is being created under it.
            ? await ParentDomainAsync(connection, transaction, parentId, cancellationToken)
            : BaseDomain;
        if (zone is null) return CommandResult<Tenant>.Invalid("parent", "The parent tenant does not exist.");

        var errors = await CheckNewAsync(connection, transaction, request, zone, cancellationToken);
        if (!errors.IsEmpty) return CommandResult<Tenant>.Invalid(errors);

        var slug = TenantRules.Normalise(request.Slug);
        var domain = ChosenDomain(request, slug, zone);
        try
        {
            var tenant = await connection.QuerySingleAsync<Tenant>(new CommandDefinition($"""
                insert into tenants (parent_id, slug, name, domain, created_by)
                values (@ParentId, @slug, @name, @domain, @creator)
                returning {TenantColumns}
                """, new { request.ParentId, slug, name = TenantRules.NormaliseName(request.Name!), domain, creator }, transaction,
                    cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("""
                insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @creator, 'admin')
                """, new { tenantId = tenant.Id, creator }, transaction, cancellationToken: cancellationToken));
            await audit.RecordAsync(new AuditEntry(Actor.User(creator, creatorName), "tenant.created", tenant.Id, "tenant", tenant.Id.ToString(),
                new { tenant.Slug, tenant.Name, tenant.Domain, tenant.ParentId, creatorRole = "admin" }), transaction, cancellationToken);
            if (alsoInTransaction is not null) await alsoInTransaction(tenant, transaction);
            await transaction.CommitAsync(cancellationToken);
            return CommandResult<Tenant>.Ok(tenant);
        }
        catch (PostgresException ex) when (UniqueViolation(ex) is { } raced)
        {
            // Someone took the slug or domain between our check and our insert; the transaction is rolled back.
            return CommandResult<Tenant>.Invalid(raced);
        }
    }

    /// <summary>Renames a tenant and/or moves its domain; descendants whose domain sat under the old one move with it.</summary>
    public async Task<CommandResult<Tenant>> UpdateAsync(Guid tenantId, string? name, string? domain, Actor actor,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await connection.QuerySingleOrDefaultAsync<Tenant>(new CommandDefinition(
            $"select {TenantColumns} from tenants where id = @tenantId for update", new { tenantId }, transaction,
                cancellationToken: cancellationToken));
        if (current is null) return CommandResult<Tenant>.NotFound();

        var newName = name is null ? current.Name : TenantRules.NormaliseName(name);
        var newDomain = domain is null ? current.Domain : TenantRules.Normalise(domain);
        var zone = current.ParentId is { } parentId ? await ParentDomainAsync(connection, transaction, parentId, cancellationToken) : BaseDomain;
        var errors = new FieldErrors().AddIf("name", TenantRules.CheckName(newName));
        if (newDomain != current.Domain)
        {
            errors.AddIf("domain", TenantRules.CheckDomain(newDomain, zone!));
            if (errors.For("domain") is null)
                errors.AddIf("domain",
                    await FindDomainConflictAsync(connection, transaction, current.Id, current.ParentId, newDomain, cancellationToken));
        }
        if (!errors.IsEmpty) return CommandResult<Tenant>.Invalid(errors);
        if (newName == current.Name && newDomain == current.Domain) return CommandResult<Tenant>.Ok(current);

        try
        {
            var updated = await connection.QuerySingleAsync<Tenant>(new CommandDefinition($"""
                update tenants set name = @newName, domain = @newDomain where id = @tenantId returning {TenantColumns}
                """, new { tenantId, newName, newDomain }, transaction, cancellationToken: cancellationToken));
            var moved = newDomain == current.Domain ? 0 : await connection.ExecuteAsync(new CommandDefinition("""
                with recursive descendants as (
                    select id from tenants where parent_id = @tenantId
                    union all
                    select t.id from tenants t join descendants d on t.parent_id = d.id
                )
                update tenants
                set domain = left(domain, length(domain) - length(@oldDomain)) || @newDomain
                where id in (select id from descendants)
                  and right(domain, length(@oldDomain) + 1) = '.' || @oldDomain
                """, new { tenantId, oldDomain = current.Domain, newDomain }, transaction, cancellationToken: cancellationToken));

            if (newName != current.Name)
                await audit.RecordAsync(new AuditEntry(actor, "tenant.renamed", tenantId, "tenant", tenantId.ToString(),
                    new { from = current.Name, to = newName }), transaction, cancellationToken);
            if (newDomain != current.Domain)
                await audit.RecordAsync(new AuditEntry(actor, "tenant.domain_changed", tenantId, "tenant", tenantId.ToString(),
                    new { from = current.Domain, to = newDomain, descendantsMoved = moved }), transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return CommandResult<Tenant>.Ok(updated);
        }
        catch (PostgresException ex) when (UniqueViolation(ex) is { } raced)
        {
            return CommandResult<Tenant>.Invalid(raced);
        }
    }

    /// <summary>The tenant and every tenant below it, parents before children, siblings by name.</summary>
    public async Task<IReadOnlyList<TenantNode>> GetSubtreeAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var nodes = await connection.QueryAsync<TenantNode>(new CommandDefinition("""
            with recursive subtree as (
                select id, parent_id, slug, name, domain, 0 as depth, array[name::text, id::text] as path
                from tenants where id = @tenantId
                union all
                select t.id, t.parent_id, t.slug, t.name, t.domain, s.depth + 1, s.path || array[t.name::text, t.id::text]
                from tenants t join subtree s on t.parent_id = s.id
            )
            select id, parent_id, slug, name, domain, depth from subtree order by path
            """, new { tenantId }, cancellationToken: cancellationToken));
        return nodes.ToList();
    }

    private string ChosenDomain(NewTenant request, string slug, string zone) =>
        string.IsNullOrWhiteSpace(request.Domain) ? TenantRules.DefaultDomain(slug, zone) : TenantRules.Normalise(request.Domain);

    private async Task<FieldErrors> CheckNewAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewTenant request, string zone,
        CancellationToken cancellationToken)
    {
        var slug = TenantRules.Normalise(request.Slug);
        var errors = new FieldErrors()
            .AddIf("name", TenantRules.CheckName(request.Name))
            .AddIf("slug", TenantRules.CheckSlug(slug));
        if (errors.For("slug") is null && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from tenants where slug = @slug)", new { slug }, transaction, cancellationToken: cancellationToken)))
            errors.Add("slug", $"'{slug}' is taken; choose another slug.");
        if (errors.For("slug") is not null && string.IsNullOrWhiteSpace(request.Domain))
            return errors; // The default domain derives from the slug: nothing more to say about it yet.

        var domain = ChosenDomain(request, slug, zone);
        errors.AddIf("domain", TenantRules.CheckDomain(domain, zone));
        if (errors.For("domain") is null)
            errors.AddIf("domain", await FindDomainConflictAsync(connection, transaction, null, request.ParentId, domain, cancellationToken));
        return errors;
    }

    private static Task<string?> ParentDomainAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid parentId,
        CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            transaction is null ? "select domain from tenants where id = @parentId" : "select domain from tenants where id = @parentId for share",
            new { parentId }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Domains of different branches must not overlap: no other tenant may have the same domain, one
    /// inside it, or one it sits inside, except the tenant's own ancestors (a child lives inside its
    /// parent's domain) and its own descendants (they move with it). Otherwise one tenant's workspace
    /// names could shadow another's.
    /// </summary>
    private static async Task<string?> FindDomainConflictAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid? selfId, Guid? parentId, string domain, CancellationToken cancellationToken)
    {
        var conflict = await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            with recursive ancestors as (
                select id, parent_id from tenants where id = @parentId
                union all
                select t.id, t.parent_id from tenants t join ancestors a on t.id = a.parent_id
            ), descendants as (
                select id from tenants where parent_id = @selfId
                union all
                select t.id from tenants t join descendants d on t.parent_id = d.id
            )
            select domain from tenants
            where id is distinct from @selfId
              and (domain = @domain
                   or (id not in (select id from ancestors) and id not in (select id from descendants)
                       and (right(domain, length(@domain) + 1) = '.' || @domain
                            or right(@domain, length(domain) + 1) = '.' || domain)))
            limit 1
            """, new { selfId, parentId, domain }, transaction, cancellationToken: cancellationToken));
        return conflict is null ? null
            : conflict == domain ? $"'{domain}' is already another tenant's domain."
            : $"'{domain}' overlaps another tenant's domain; choose a name outside it.";
    }

    private static FieldErrors? UniqueViolation(PostgresException ex) => ex.SqlState != PostgresErrorCodes.UniqueViolation ? null
        : ex.ConstraintName switch
        {
            "tenants_slug_unique" => FieldErrors.Single("slug", "That slug was just taken; choose another slug."),
            "tenants_domain_unique" => FieldErrors.Single("domain", "That domain was just taken; choose another domain."),
            _ => null,
        };
}

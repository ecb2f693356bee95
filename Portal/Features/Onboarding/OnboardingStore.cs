using System.Text.Json;
using Cogrion.Portal.Infrastructure.Input;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Features.Onboarding;

/// <summary>
/// Persists a person's wizard progress (one row per person). Not audited: drafts are what someone is
/// still typing; the changes they lead to (creating a tenant) are audited where they happen.
/// </summary>
public sealed class OnboardingStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // A class, not a positional record: Npgsql reports text[] as System.Array, which Dapper matches to
    // no constructor parameter, but it does assign it to a string[] property.
    private sealed class Row
    {
        public Guid UserId { get; init; }
        public Guid? TenantId { get; init; }
        public string? TenantSlug { get; init; }
        public string Draft { get; init; } = "{}";
        public string[] CompletedSteps { get; init; } = [];
    }

    public async Task<OnboardingProgress> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition("""
            select p.user_id, p.tenant_id, t.slug as tenant_slug, p.draft::text as draft, p.completed_steps
            from onboarding_progress p left join tenants t on t.id = p.tenant_id
            where p.user_id = @userId
            """, new { userId }, cancellationToken: cancellationToken));
        return row is null
            ? OnboardingProgress.Start(userId)
            : new OnboardingProgress(row.UserId, row.TenantId, row.TenantSlug, JsonSerializer.Deserialize<OnboardingDraft>(row.Draft, Json) ?? new(),
                row.CompletedSteps);
    }

    public async Task SaveDraftAsync(Guid userId, OnboardingDraft draft, CancellationToken cancellationToken)
    {
        // Saved as the person types; text that cannot be stored is not saved (the step's rules say why).
        if (!InputText.IsStorable(draft.Name) || !InputText.IsStorable(draft.Slug) || !InputText.IsStorable(draft.Domain)) return;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into onboarding_progress (user_id, draft, updated_at) values (@userId, @draft::jsonb, @now)
            on conflict (user_id) do update set draft = excluded.draft, updated_at = excluded.updated_at
            """, new { userId, draft = JsonSerializer.Serialize(draft, Json), now = time.GetUtcNow() }, cancellationToken: cancellationToken));
    }

    /// <summary>Marks a step done; pass <paramref name="transaction"/> to make it part of the change the step made.</summary>
    public async Task CompleteStepAsync(Guid userId, string stepKey, Guid? tenantId, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        const string sql = """
            insert into onboarding_progress (user_id, tenant_id, completed_steps, updated_at)
            values (@userId, @tenantId, array[@stepKey], @now)
            on conflict (user_id) do update set
                tenant_id = coalesce(excluded.tenant_id, onboarding_progress.tenant_id),
                completed_steps = case when @stepKey = any(onboarding_progress.completed_steps)
                                       then onboarding_progress.completed_steps
                                       else onboarding_progress.completed_steps || @stepKey end,
                updated_at = excluded.updated_at
            """;
        var parameters = new { userId, stepKey, tenantId, now = time.GetUtcNow() };
        if (transaction is not null)
        {
            await transaction.Connection!.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    /// <summary>Starts over, to set up another organisation.</summary>
    public async Task ResetAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from onboarding_progress where user_id = @userId", new { userId }, cancellationToken: cancellationToken));
    }
}

using System.Security.Cryptography;
using System.Text;
using Cogrion.Portal.Features.Agents.Enrollment;
using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Agents;

/// <summary>
/// A bootstrap token written straight into a database, in the shape AgentEnrollment writes it (only the
/// SHA-256 of the token is stored), for tests whose Portals run as separate processes.
/// </summary>
public static class TestBootstrapTokens
{
    public static async Task<string> MintAsync(string connectionString, Guid tenantId, Guid workspaceId)
    {
        var token = AgentEnrollment.TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-')
            .Replace('/', '_');
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync("""
            insert into agent_bootstrap_tokens (id, token_hash, tenant_id, workspace_id, created_at, expires_at, created_by)
            values (@id, @hash, @tenantId, @workspaceId, now(), now() + interval '1 hour', 'test')
            """, new { id = Guid.CreateVersion7(), hash = SHA256.HashData(Encoding.UTF8.GetBytes(token)), tenantId, workspaceId });
        return token;
    }
}

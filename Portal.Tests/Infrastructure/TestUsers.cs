using Dapper;
using Npgsql;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// The one way tests put a person in the database without signing in: a <c>users</c> row as a
/// sign-in would record it (a subject, a username, an e-mail). Tests that are about sign-in sign in.
/// </summary>
public static class TestUsers
{
    public static async Task<TestUser> CreateAsync(
        NpgsqlConnection connection, string username, string? email = null, bool verified = true, bool platformAdmin = false, string? subject = null)
    {
        var id = await connection.ExecuteScalarAsync<Guid>("""
            insert into users (subject, username, email, email_verified) values (@subject, @username, @email, @verified) returning id
            """, new { subject = subject ?? "sub-" + Guid.NewGuid(), username, email = email ?? $"{username}@example.com", verified });
        return new TestUser(id, username, platformAdmin);
    }

    public static async Task<TestUser> CreateAsync(NpgsqlDataSource dataSource, string username, string? email = null, bool verified = true,
        bool platformAdmin = false)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await CreateAsync(connection, username, email, verified, platformAdmin);
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Users;

public static class UsersServiceCollectionExtensions
{
    /// <summary>The people who signed in: their record (<see cref="UserDirectory"/>) and their sessions (<see cref="UserSessions"/>).</summary>
    public static WebApplicationBuilder AddPortalUsers(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<UserDirectory>();
        builder.Services.TryAddSingleton<UserSessions>();
        return builder;
    }
}

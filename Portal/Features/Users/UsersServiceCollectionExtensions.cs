using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cogrion.Portal.Features.Users;

public static class UsersServiceCollectionExtensions
{
    /// <summary>The platform admin's view of the people who signed in and their sessions (<see cref="UserSessions"/>).</summary>
    public static WebApplicationBuilder AddPortalUsers(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<UserSessions>();
        return builder;
    }
}

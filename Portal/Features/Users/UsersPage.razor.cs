using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Cogrion.Portal.Features.Users;

public partial class UsersPage
{
    [Inject] private UserSessions Sessions { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private IReadOnlyList<UserSessionSummary>? users;
    private string? search;
    private Guid? confirming;
    private bool busy;
    private string? message;
    private readonly CancellationTokenSource disposed = new();

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync() => users = await Sessions.ListAsync(search, disposed.Token);

    private async Task SearchAsync()
    {
        message = null;
        await LoadAsync();
    }

    private async Task SignOutEverywhereAsync(UserSessionSummary user)
    {
        busy = true;
        try
        {
            var admin = (await AuthenticationState).User;
            var ended = await Sessions.SignOutEverywhereAsync(user.Id, admin, disposed.Token);
            message = ended is null
                ? $"{user.Username} no longer exists."
                : $"Signed {user.Username} out everywhere: {ended} session(s) ended. Their next sign-in asks for their password.";
            confirming = null;
            await LoadAsync();
        }
        finally
        {
            busy = false;
        }
    }

    private static string Format(DateTimeOffset? at) =>
        at is null ? "never" : at.Value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        disposed.Cancel();
        disposed.Dispose();
    }
}

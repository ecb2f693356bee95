using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Cogrion.Portal.Infrastructure.Authentication.Sessions;

/// <summary>
/// A circuit's view of who is signed in, which ends with the server-side session: when the session
/// is ended anywhere (sign-out in another tab, back-channel logout, "sign out everywhere", on any
/// replica) the circuit hears of it at once and drops its user, and the page sends the browser to
/// sign in again. A periodic look-up covers notifications lost with the database connection.
/// </summary>
public sealed class SessionAuthenticationStateProvider : RevalidatingServerAuthenticationStateProvider
{
    // Not authenticated (no authentication type), and marked so the page shows "your session has ended".
    private static readonly AuthenticationState SignedOut = new(new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalClaims.SessionEnded,
        "true")])));

    private readonly SessionEndNotifications notifications;
    private readonly SessionRevocations revocations;
    private readonly Lock gate = new();
    private readonly CancellationTokenSource disposed = new();
    private IDisposable? subscription;
    private string? sessionHash;

    public SessionAuthenticationStateProvider(ILoggerFactory loggerFactory, SessionEndNotifications notifications, SessionRevocations revocations)
        : base(loggerFactory)
    {
        this.notifications = notifications;
        this.revocations = revocations;
        AuthenticationStateChanged += OnAuthenticationStateChanged;
    }

    // Notifications end a circuit's session at once; this only bounds how long a circuit could
    // outlive its session if the process missed them and its catch-up look-up failed as well.
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(5);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var hash = authenticationState.User.FindFirstValue(PortalClaims.ServerSession);
        if (hash is null || await revocations.IsActiveAsync(hash, cancellationToken)) return true;
        // Ended: drop the user the same way a notification does (the page says so), rather than the base class's way.
        EndSession();
        return true;
    }

    private async void OnAuthenticationStateChanged(Task<AuthenticationState> task)
    {
        AuthenticationState state;
        try
        {
            state = await task;
        }
        catch (Exception)
        {
            return; // the framework reports a failed authentication itself
        }
        var hash = state.User.FindFirstValue(PortalClaims.ServerSession);
        lock (gate)
        {
            if (hash == sessionHash) return;
            subscription?.Dispose();
            sessionHash = hash;
            subscription = hash is null ? null : notifications.Listen(hash, EndSession, () => _ = RecheckAsync(hash));
        }
    }

    // Called on the listener's thread, which must not wait: the circuit re-renders on its own dispatcher.
    private void EndSession() => _ = Task.Run(() => SetAuthenticationState(Task.FromResult(SignedOut)));

    private async Task RecheckAsync(string hash)
    {
        try
        {
            if (!await revocations.IsActiveAsync(hash, disposed.Token)) EndSession();
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
        {
            // The database is away (the periodic revalidation tries again), or the circuit is gone.
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            AuthenticationStateChanged -= OnAuthenticationStateChanged;
            lock (gate) subscription?.Dispose();
            disposed.Cancel(); // not disposed: a look-up in flight may still read its token
        }
        base.Dispose(disposing);
    }
}

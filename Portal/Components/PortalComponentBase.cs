using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Components;

/// <summary>
/// The base of every page and stateful component: <see cref="Aborted"/> is cancelled when the
/// component goes away, which is when the person navigates elsewhere or the circuit ends (a closed
/// tab, a lost connection that was not resumed). Pass it to every I/O call the component makes, so
/// a query nobody waits for any more stops instead of running to the end.
/// </summary>
public abstract class PortalComponentBase : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource lifetime = new();
    private bool disposed;

    /// <summary>Cancelled when this component is disposed (by navigation or by the end of its circuit).</summary>
    protected CancellationToken Aborted => lifetime.Token;

    /// <summary>Release what the component holds (subscriptions, timers); <see cref="Aborted"/> is already cancelled.</summary>
    protected virtual void OnDisposing()
    {
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        lifetime.Cancel();
        OnDisposing();
        lifetime.Dispose();
        GC.SuppressFinalize(this);
    }
}

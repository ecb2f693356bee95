using Microsoft.AspNetCore.Components.Server;

namespace Cogrion.Portal.Components;

/// <summary>
/// How the circuits' WebSocket is set up. Measured with bench/circuits.sh (docs/performance.md): with the
/// framework's default (compression with context takeover) every open tab keeps a zlib compressor of its
/// own (a few hundred KB of native memory) alive for as long as it is open, idle or not.
/// </summary>
public static class CircuitWebSocket
{
    public static void ConfigureEndpoint(ServerComponentsEndpointOptions options)
    {
        // Still compressed (render batches are repetitive markup), but the compressor starts afresh with each
        // message and is released in between: an idle circuit holds none. The frame-ancestors policy that
        // guards compression stays the framework's ('self'): setting this callback keeps it applied.
        options.ConfigureWebSocketAcceptContext = (_, accept) =>
        {
            accept.DangerousEnableCompression = true;
            accept.DisableServerContextTakeover = true;
            return Task.CompletedTask;
        };
    }
}

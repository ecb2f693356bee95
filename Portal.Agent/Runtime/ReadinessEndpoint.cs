using System.Net;
using System.Text;
using Cogrion.Agent.Protocol;
using Microsoft.Extensions.Options;

namespace Cogrion.Agent.Runtime;

/// <summary>
/// The kubelet's probes: /readyz (200 once <see cref="AgentReadiness"/> says so, 503 with the reason
/// before) and /healthz (200 while the process serves). HttpListener rather than Kestrel: two fixed
/// answers do not justify a web server in a Native AOT binary that must stay small.
/// </summary>
public sealed class ReadinessEndpoint(IOptions<AgentOptions> options, AgentReadiness readiness, ILogger<ReadinessEndpoint> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var address = string.IsNullOrWhiteSpace(options.Value.HealthAddress) ? "+" : options.Value.HealthAddress;
        if (address.Contains(':')) address = $"[{address}]";
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://{address}:{options.Value.HealthPort}/");
        try
        {
            listener.Start();
        }
        catch (HttpListenerException ex)
        {
            // Without probes the pod never becomes ready and a rollout keeps the old one: say why.
            logger.LogError("Cannot serve {Path} on {Address}:{Port}: {Problem}", AgentInstall.ReadinessPath, address, options.Value.HealthPort,
                ex.Message);
            return;
        }
        using var stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // Stopped.
            }
            Answer(context);
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var (status, text) = context.Request.Url?.AbsolutePath switch
        {
            AgentInstall.ReadinessPath when readiness.IsReady => (200, "ok"),
            AgentInstall.ReadinessPath => (503, readiness.NotReadyBecause),
            "/healthz" => (200, "ok"),
            _ => (404, "not found"),
        };
        try
        {
            var body = Encoding.UTF8.GetBytes(text + "\n");
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            context.Response.ContentLength64 = body.Length;
            context.Response.OutputStream.Write(body);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The prober went away; it will ask again.
        }
    }
}

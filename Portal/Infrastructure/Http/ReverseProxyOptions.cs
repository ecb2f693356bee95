using System.Net;
using Cogrion.Portal.Infrastructure.Configuration;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>
/// The reverse proxies (nginx, an ingress controller) allowed to say, in <c>X-Forwarded-Proto</c>,
/// <c>X-Forwarded-Host</c> and <c>X-Forwarded-For</c>, what the browser really asked for. Only their
/// word is taken: the same headers from anyone else are ignored, or a client could make the Portal
/// build sign-in redirect URIs and agent install URLs for a host of its choosing.
/// </summary>
public sealed class ReverseProxyOptions
{
    public const string Section = "ReverseProxy";

    /// <summary>Addresses of the proxies, e.g. <c>10.0.0.12</c>. Loopback is always trusted (a proxy on the same host).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of the proxies in CIDR notation, e.g. the pod network <c>10.244.0.0/16</c> an ingress controller runs in.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>Host names the Portal answers to through the proxy; a forwarded host outside them is ignored. Empty: any.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>How many proxies in a row may append to the headers (an external load balancer in front of the ingress is 2).</summary>
    public int ForwardLimit { get; set; } = 1;
}

public sealed class ReverseProxyOptionsValidator : IValidateOptions<ReverseProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ReverseProxyOptions options)
    {
        var errors = new ValidationErrors(ReverseProxyOptions.Section);
        foreach (var proxy in options.KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
            errors.Add(nameof(options.KnownProxies), $"must list IP addresses such as '10.0.0.12'; '{proxy}' is not one.");
        foreach (var network in options.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
            errors.Add(nameof(options.KnownNetworks), $"must list networks in CIDR notation such as '10.244.0.0/16'; '{network}' is not one.");
        if (options.ForwardLimit is < 1 or > 10)
            errors.Add(nameof(options.ForwardLimit), $"must be between 1 and 10; {options.ForwardLimit} is not.");
        return errors.ToResult();
    }
}

public static class ReverseProxyExtensions
{
    public static WebApplicationBuilder AddPortalReverseProxy(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ReverseProxyOptions, ReverseProxyOptionsValidator>(builder.Configuration, ReverseProxyOptions.Section);
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ReverseProxyOptions>>((forwarded, proxies) =>
        {
            var settings = proxies.Value;
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            forwarded.ForwardLimit = settings.ForwardLimit;
            // The framework's defaults (loopback) stay; the operator's proxies are added to them.
            foreach (var proxy in settings.KnownProxies)
                if (IPAddress.TryParse(proxy, out var address)) forwarded.KnownProxies.Add(address);
            foreach (var network in settings.KnownNetworks)
                if (System.Net.IPNetwork.TryParse(network, out var parsed)) forwarded.KnownIPNetworks.Add(parsed);
            forwarded.AllowedHosts = settings.AllowedHosts;
        });
        return builder;
    }
}

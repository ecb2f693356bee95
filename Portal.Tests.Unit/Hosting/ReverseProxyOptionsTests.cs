using Cogrion.Portal.Infrastructure.Http;

namespace Cogrion.Portal.Tests.Hosting;

public sealed class ReverseProxyOptionsTests
{
    [Fact]
    public void The_defaults_trust_only_loopback_and_are_valid() =>
        Assert.True(new ReverseProxyOptionsValidator().Validate(null, new ReverseProxyOptions()).Succeeded);

    [Fact]
    public void Addresses_and_networks_as_an_operator_writes_them_are_valid()
    {
        var result = new ReverseProxyOptionsValidator().Validate(null, new ReverseProxyOptions
        {
            KnownProxies = ["10.0.0.12", "fd00::12"],
            KnownNetworks = ["10.244.0.0/16", "fd00::/64"],
            AllowedHosts = ["portal.cogrion.example"],
            ForwardLimit = 2,
        });

        Assert.True(result.Succeeded, string.Join("\n", result.Failures ?? []));
    }

    [Fact]
    public void Every_bad_setting_is_reported_at_once()
    {
        var result = new ReverseProxyOptionsValidator().Validate(null, new ReverseProxyOptions
        {
            KnownProxies = ["ingress-nginx"],
            KnownNetworks = ["10.244.0.0"],
            ForwardLimit = 0,
        });

        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("ReverseProxy:KnownProxies must list IP addresses", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f
            => f.StartsWith("ReverseProxy:KnownNetworks must list networks in CIDR notation", StringComparison.Ordinal));
    }
}

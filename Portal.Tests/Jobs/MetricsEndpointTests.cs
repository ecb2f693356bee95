using System.Net;
using System.Net.Http.Headers;
using Cogrion.Jobs;
using Cogrion.Jobs.Diagnostics;
using Cogrion.Jobs.Tests;
using Cogrion.Portal.Tests.Infrastructure;

namespace Cogrion.Portal.Tests.Jobs;

/// <summary>/metrics: Prometheus text built on System.Diagnostics.Metrics, behind a bearer token (ADR 0013).</summary>
public sealed class MetricsEndpointTests
{
    private const string Token = "metrics-token-0123456789abcdef";

    [Fact]
    public async Task A_scrape_with_the_token_gets_the_job_metrics_in_prometheus_text()
    {
        var db = await PortalJobDatabase.CreateAsync();
        await using var portal = new PortalAppFactory(db.ConnectionString, overrides: new Dictionary<string,
            string?>
        { ["Metrics:BearerToken"] = Token });
        var client = portal.CreateNonRedirectingClient();
        await Eventually.StatusAsync(client, "/readyz", HttpStatusCode.OK);
        var id = await db.EnqueueAsync(new DiagnosticEchoJob(0));
        await db.WaitForStateAsync(id, JobStates.Succeeded);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE cogrion_jobs_completed_total counter", text);
        Assert.Contains("cogrion_jobs_completed_total{kind=\"diagnostics.echo\",outcome=\"succeeded\"} 1", text);
        Assert.Contains("# TYPE cogrion_jobs_duration_seconds histogram", text);
        Assert.Contains("cogrion_jobs_wait_time_seconds_bucket{kind=\"diagnostics.echo\",le=\"+Inf\"} 1", text);
        Assert.Contains("cogrion_jobs_queue_depth{due=\"now\"} 0", text);
        Assert.Contains("# TYPE cogrion_jobs_running gauge", text);
        Assert.Contains("cogrion_jobs_failed_last_hour 0", text);
    }

    [Fact]
    public async Task A_scrape_without_the_token_is_refused()
    {
        var db = await PortalJobDatabase.CreateAsync();
        await using var portal = new PortalAppFactory(db.ConnectionString, overrides: new Dictionary<string,
            string?>
        { ["Metrics:BearerToken"] = Token });
        var client = portal.CreateNonRedirectingClient();

        var anonymous = await client.GetAsync("/metrics");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token + "x");
        var forged = await client.SendAsync(wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.DoesNotContain("cogrion_jobs", await anonymous.Content.ReadAsStringAsync());
    }
}

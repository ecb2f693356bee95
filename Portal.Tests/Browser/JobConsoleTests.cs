using System.Text.RegularExpressions;
using Cogrion.Portal.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

namespace Cogrion.Portal.Tests.Browser;

/// <summary>The admin job console in Debian Chromium against the real Portal, its real workers and the dev identity provider.</summary>
[Collection(BrowserCollection.Name)]
public sealed class JobConsoleTests
{
    private static readonly LocatorAssertionsToHaveTextOptions Slowly = new() { Timeout = 30_000 };

    [Fact]
    public async Task A_platform_admin_watches_a_diagnostic_job_appear_run_fail_and_succeed_after_a_retry()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();
        await stack.SignInAsync(page, DevIdentityProvider.Admin, "/admin/jobs");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Jobs", Exact = true })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Run a diagnostic job" }).First.ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Run a diagnostic job" });
        // Long enough to be seen running: the list redraws at most once a second, and the assertion polls once a second once it
        // has waited a while: a 2 s run could show "running" for a single second, between two polls; 3 s shows it for two at least.
        await SetNumberAsync(dialog, "Seconds to run", "3");
        await SetNumberAsync(dialog, "Fail the first N attempts", "1");
        await SetNumberAsync(dialog, "Attempts allowed", "1");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Queue job" }).ClickAsync();

        var queued = page.GetByText(new Regex(@"Diagnostic job \d+ queued"));
        await Assertions.Expect(queued).ToBeVisibleAsync();
        var id = Regex.Match(await queued.InnerTextAsync(), @"\d+").Value;

        // The list follows the job live: it appears, runs, and fails its only attempt on purpose.
        var state = page.GetByRole(AriaRole.Status, new() { Name = $"State of job {id}" });
        await Assertions.Expect(state).ToHaveTextAsync("running", Slowly);
        await Assertions.Expect(state).ToHaveTextAsync("failed", Slowly);

        await page.GetByRole(AriaRole.Link, new() { Name = $"Job {id}", Exact = true }).ClickAsync();
        var jobState = page.GetByRole(AriaRole.Status, new() { Name = "Job state" });
        await Assertions.Expect(jobState).ToHaveTextAsync("failed");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Last error" })).ToContainTextAsync("Failing attempt 1 on purpose");

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog, new() { Name = "Retry this job?" }).GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();

        await Assertions.Expect(jobState).ToHaveTextAsync("succeeded", Slowly);
        // A retry grants the kind's full set of attempts (three for diagnostics.echo) on top of the one used.
        await Assertions.Expect(page.GetByLabel("Attempts used")).ToHaveTextAsync("2 of 4");
        var history = page.GetByRole(AriaRole.Table, new() { Name = "Attempts" });
        await Assertions.Expect(history).ToContainTextAsync("failed");
        await Assertions.Expect(history).ToContainTextAsync("succeeded");
        await Assertions.Expect(page.GetByRole(AriaRole.Log, new() { Name = "Job log" })).ToContainTextAsync("Done.");

        await using var connection = new NpgsqlConnection(stack.ConnectionString);
        var actions = await connection.QueryAsync<string>(
            "select action from audit_events where target_kind = 'job' and target_id = @id order by id", new { id });
        Assert.Equal(["job.enqueued", "job.retried"], actions);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_ordinary_user_is_denied_the_job_console()
    {
        var stack = await PortalStack.GetAsync();
        var page = await stack.NewPageAsync();

        await stack.SignInAsync(page, DevIdentityProvider.Alice, "/audit");

        await page.GotoAsync("/admin/jobs");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Access denied" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Jobs", new() { Exact = true })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" })
            .GetByRole(AriaRole.Link, new() { Name = "Jobs", Exact = true })).ToHaveCountAsync(0);
        await page.GotoAsync("/admin/jobs/workers");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Access denied" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    private static async Task SetNumberAsync(ILocator dialog, string label, string value)
    {
        var input = dialog.GetByLabel(label);
        await input.FillAsync(value);
        await input.PressAsync("Tab");
    }
}

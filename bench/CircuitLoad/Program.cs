using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Playwright;
using Npgsql;

// bench/circuits.sh starts PostgreSQL, the dev identity provider and the Portal, then runs this.
// Memory per circuit = (Portal RSS with WARM + N circuits − RSS with WARM circuits) / N, each read
// after a full, blocking garbage collection (dotnet-gcdump induces one) and a short settle, so that
// garbage waiting for the next collection is not counted as a circuit's.
var options = Options.Parse(args);

var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium",
    Headless = true,
    Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic",
        // Tabs share a few renderer processes: the browser's memory is not what is measured, and
        // 200+ renderers would starve the Portal of the machine's two cores.
        "--renderer-process-limit=8",
        // A hidden tab's timers are throttled; the circuit's keep-alive pings must keep flowing.
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
    ],
});
var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = options.Portal });
context.SetDefaultTimeout(120_000);

// Sign in once (the real login page); every page of the context shares the session cookie.
var first = await context.NewPageAsync();
await first.GotoAsync("/dashboard");
await first.WaitForURLAsync(url => url.StartsWith(options.Idp, StringComparison.Ordinal));
await first.FillAsync("#username", options.Username);
await first.FillAsync("#password", options.Password);
await first.ClickAsync("#kc-login");
await first.WaitForURLAsync(url => url.StartsWith(options.Portal + "/", StringComparison.Ordinal)
    && !url.Contains("/signin-oidc", StringComparison.Ordinal) && !url.EndsWith("/dashboard", StringComparison.Ordinal));
await first.CloseAsync();

// The user's tenant, with a few workspaces so the dashboard shows a real list.
var slug = await SeedTenantAsync(options);
var dashboard = $"/t/{slug}";

var pages = new List<IPage>();
async Task OpenAsync(int count)
{
    for (var opened = 0; opened < count;)
    {
        var batch = Math.Min(10, count - opened);
        var tasks = Enumerable.Range(0, batch).Select(async _ =>
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync(dashboard);
            // Interactive: the circuit has taken over the prerendered page.
            await page.WaitForSelectorAsync("main[data-interactive=true]");
            return page;
        });
        pages.AddRange(await Task.WhenAll(tasks));
        opened += batch;
    }
}

await OpenAsync(options.Warm);
var before = await SettledMemoryAsync(options, "baseline");
var started = Stopwatch.StartNew();
await OpenAsync(options.Circuits);
Console.WriteLine($"opened {options.Circuits} more dashboard circuits in {started.Elapsed.TotalSeconds:0.0} s; idling {options.IdleSeconds} s");
await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds));

// Every page must still be a live circuit: a dropped one would make the figure look better than it is.
var live = 0;
foreach (var page in pages)
    if (await page.Locator("main[data-interactive=true]").CountAsync() == 1
        && await page.Locator("#blazor-error-ui:visible, #components-reconnect-modal:visible").CountAsync() == 0)
        live++;
var after = await SettledMemoryAsync(options, "loaded");
Console.WriteLine($"live circuits: {live} of {pages.Count}");
if (live != pages.Count) { Console.Error.WriteLine("some circuits dropped: the figure would be wrong"); return 1; }

var perCircuitKb = (after.RssKb - before.RssKb) / (double)options.Circuits;
var perCircuitManagedKb = (after.ManagedKb - before.ManagedKb) / (double)options.Circuits;
Console.WriteLine($"Portal RSS: {before.RssKb / 1024.0:0.0} MiB with {options.Warm} circuits, {after.RssKb / 1024.0:0.0} MiB with " +
    $"{options.Warm + options.Circuits}");
Console.WriteLine($"managed heap after a full GC: {before.ManagedKb / 1024.0:0.0} MiB → {after.ManagedKb / 1024.0:0.0} MiB " +
    $"({perCircuitManagedKb:0} KB per circuit)");
if (options.ReportPath is not null) Console.WriteLine($"largest types on the heap: {options.ReportPath}");
Console.WriteLine($"circuits: {options.Circuits}, KB per circuit: {Math.Round(perCircuitKb).ToString(CultureInfo.InvariantCulture)}");
return 0;

static async Task<string> SeedTenantAsync(Options options)
{
    await using var connection = new NpgsqlConnection(options.Connection);
    var userId = await connection.ExecuteScalarAsync<Guid>("select id from users where username = @name", new { name = options.Username });
    var tenantId = await connection.ExecuteScalarAsync<Guid>(
        "insert into tenants (slug, name, domain, created_by) values ('bench', 'Bench Ltd', 'bench.cogrion.bench', @userId) returning id",
            new { userId });
    await connection.ExecuteAsync("insert into tenant_memberships (tenant_id, user_id, role) values (@tenantId, @userId, 'admin')",
        new { tenantId, userId });
    var accountId = await connection.ExecuteScalarAsync<Guid>("""
        insert into cloud_accounts (tenant_id, provider, name, account_ref, role_arn, external_id, status)
        values (@tenantId, 'sandbox', 'sandbox', 'ref-bench', '', 'ext-bench', 'verified') returning id
        """, new { tenantId });
    for (var i = 1; i <= 5; i++)
        await connection.ExecuteAsync("""
            insert into workspaces (id, tenant_id, name, cloud_account_id, provider, region, network_cidr, kubernetes_version,
                                    node_pools, use_karpenter, approval_mode, status, created_by)
            values (gen_random_uuid(), @tenantId, @name, @accountId, 'sandbox', 'sandbox-local-1', @cidr::cidr, '1.31',
                    '[{"name":"default","instance_type":"m6i.large","min_size":1,"max_size":3}]', false, 'automatic', 'ready', 'bench')
            """, new { tenantId, accountId, name = $"analytics-{i}", cidr = $"10.{40 + i}.0.0/16" });
    return "bench";
}

static async Task<(long RssKb, long ManagedKb)> SettledMemoryAsync(Options options, string label)
{
    // dotnet-gcdump induces a full blocking collection in the Portal and writes what survived it. The
    // GC gives freed memory back to the system a little at a time after a collection: collect, let the
    // idle process settle, and collect again before reading what stays resident.
    var dump = Path.Combine(options.WorkDirectory, $"{label}.gcdump");
    await RunAsync(options.GcDump, $"collect -p {options.PortalPid} -o {dump}");
    await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds));
    await RunAsync(options.GcDump, $"collect -p {options.PortalPid} -o {dump}");
    await Task.Delay(TimeSpan.FromSeconds(3));
    var rss = long.Parse(File.ReadLines($"/proc/{options.PortalPid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    Console.WriteLine($"{label}: {ResidentByMapping(options.PortalPid)}");
    var report = await RunAsync(options.GcDump, $"report {dump}");
    if (label == "loaded" && options.ReportPath is not null) await File.WriteAllTextAsync(options.ReportPath, report);
    // The report's type lines: "   12,345,678  GC Heap bytes" then one line per type "size  count  type".
    var managedBytes = report.Split('\n').Select(l => l.Trim()).Where(l => l.EndsWith("GC Heap bytes", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0].Replace(",", ""), CultureInfo.InvariantCulture))
            .FirstOrDefault();
    return (rss, managedBytes / 1024);
}

// Where the resident memory is: anonymous memory (the GC's heap, native allocations, thread stacks,
// jitted code) or pages of files (the runtime's and the app's assemblies), which circuits do not grow.
static string ResidentByMapping(int pid)
{
    long anonymous = 0, files = 0;
    var fileBacked = false;
    foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 5 && parts[0].Contains('-') && !parts[0].EndsWith(':'))
            fileBacked = parts.Length >= 6 && parts[5].StartsWith('/') && !parts[5].StartsWith("/memfd:", StringComparison.Ordinal);
        else if (parts.Length >= 2 && parts[0] == "Rss:")
        {
            var kb = long.Parse(parts[1], CultureInfo.InvariantCulture);
            if (fileBacked) files += kb; else anonymous += kb;
        }
    }
    var threads = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal)).Split('\t', ' ').Last();
    return $"resident {anonymous / 1024} MiB anonymous (heap, native, stacks, code), {files / 1024} MiB of mapped files; {threads} threads";
}

static async Task<string> RunAsync(string file, string arguments)
{
    var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    var error = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed: {output}{error}");
    return output;
}

internal sealed record Options(string Portal, string Idp, string Connection, int PortalPid, int Circuits, int Warm, int IdleSeconds,
    string Username, string Password, string GcDump, string WorkDirectory, string? ReportPath, int SettleSeconds)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string? fallback = null)
        {
            var index = Array.IndexOf(args, "--" + name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback ?? throw new ArgumentException($"--{name} is required");
        }
        return new Options(Get("portal"), Get("idp"), Get("connection"), int.Parse(Get("portal-pid"), CultureInfo.InvariantCulture),
            int.Parse(Get("circuits", "200"), CultureInfo.InvariantCulture), int.Parse(Get("warm", "10"), CultureInfo.InvariantCulture),
            int.Parse(Get("idle-seconds", "20"), CultureInfo.InvariantCulture), Get("username", "alice"), Get("password", "alice-pass"),
            Get("gcdump"), Get("work"), args.Contains("--report") ? Get("report") : null,
            int.Parse(Get("settle-seconds", "20"), CultureInfo.InvariantCulture));
    }
}

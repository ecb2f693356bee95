namespace Cogrion.Portal.Hosting;

/// <summary>
/// <c>Portal healthcheck [url]</c>: asks a running Portal's /healthz and exits 0 when it answers 200.
/// The container's HEALTHCHECK uses it, so the runtime image needs no curl or wget.
/// </summary>
public static class HealthProbe
{
    public const string Command = "healthcheck";
    private const string DefaultUrl = "http://127.0.0.1:8080/healthz";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Command;

    public static async Task<int> RunAsync(string[] args)
    {
        var url = args.Length > 1 ? args[1] : DefaultUrl;
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            using var response = await client.GetAsync(url);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"{url}: {ex.Message}");
            return 1;
        }
    }
}

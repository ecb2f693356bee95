namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// A benchmark, not a test: it runs only from its script, <c>bench/&lt;name&gt;.sh</c>, which names the result file in
/// <c>COGRION_BENCH_&lt;NAME&gt;</c>; everywhere else (tools/test.sh, CI) it is skipped, saying which script runs it.
/// </summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute(string name)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ResultVariable(name)))) Skip = $"A benchmark: run bench/{name}.sh.";
    }

    /// <summary>The variable the bench's script sets to the file the bench writes its figures to.</summary>
    private static string ResultVariable(string name) => "COGRION_BENCH_" + name.ToUpperInvariant();
}

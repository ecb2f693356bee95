using Cogrion.Portal.Tests.Architecture;

namespace Cogrion.Portal.Tests.HouseStyle;

/// <summary>
/// What .editorconfig cannot enforce by itself. `dotnet format --verify-no-changes` (in tools/test.sh)
/// checks the rest. Razor files are not checked yet: the pages are being rewritten on MudBlazor.
/// </summary>
public sealed class HouseStyleTests
{
    private const int MaxLineLength = 150;

    [Fact]
    public void No_line_of_csharp_is_longer_than_150_characters()
    {
        var root = DependencyTests.RepoRoot();
        var tooLong = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsGenerated(path))
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (path, line, number: index + 1)))
            .Where(l => l.line.Length > MaxLineLength)
            .Select(l => $"{Path.GetRelativePath(root, l.path)}:{l.number} ({l.line.Length} characters)")
            .ToList();

        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} line(s) longer than {MaxLineLength} characters (tools/wrap-long-lines.py wraps most):\n" + string.Join("\n", tooLong.Take(50)));
    }

    private static bool IsGenerated(string path)
    {
        var separator = Path.DirectorySeparatorChar;
        return path.Contains($"{separator}bin{separator}", StringComparison.Ordinal) || path.Contains($"{separator}obj{separator}", StringComparison.Ordinal)
            || path.Contains($"{separator}node_modules{separator}", StringComparison.Ordinal) || path.Contains($"{separator}.local{separator}", StringComparison.Ordinal);
    }
}

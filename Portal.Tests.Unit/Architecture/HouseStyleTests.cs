using Cogrion.Portal.Tests.Architecture;

namespace Cogrion.Portal.Tests.HouseStyle;

/// <summary>
/// What .editorconfig cannot enforce by itself. `dotnet format --verify-no-changes` (in tools/test.sh)
/// checks the rest. Razor files are not checked yet: the pages are being rewritten on MudBlazor.
/// Literal data keeps its own shape: lines inside a multi-line raw string literal (SQL, JSON, HCL shown
/// to people) and a line that is one string literal alone (a signature's string-to-sign, a JSON
/// message) may be longer, since breaking them would change what they say or hide what is compared.
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
            .SelectMany(path => CodeLines(File.ReadAllLines(path)).Select(l => (path, l.line, l.number)))
            .Where(l => l.line.Length > MaxLineLength)
            .Select(l => $"{Path.GetRelativePath(root, l.path)}:{l.number} ({l.line.Length} characters)")
            .ToList();

        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} line(s) longer than {MaxLineLength} characters (tools/wrap-long-lines.py wraps most):\n"
                + string.Join("\n", tooLong.Take(50)));
    }

    [Fact]
    public void Literal_data_is_not_code_but_the_code_around_it_is()
    {
        string[] lines =
        [
            "var sql = \"\"\"",
            "    select a_long_column_list from t",
            "    \"\"\";",
            "    \"a lone literal\",",
            "    \"\"\"{\"json\":1}\"\"\"));",
            "var x = Call(\"text\");",
        ];

        Assert.Equal([1, 6], CodeLines(lines).Select(l => l.number));
    }

    /// <summary>The lines that are code: not inside a multi-line raw string literal, not one string literal alone.</summary>
    private static IEnumerable<(string line, int number)> CodeLines(IReadOnlyList<string> lines)
    {
        var insideRaw = false;
        for (var index = 0; index < lines.Count; index++)
        {
            var line = lines[index];
            var wasInside = insideRaw;
            if (CountOf(line, "\"\"\"") % 2 == 1) insideRaw = !insideRaw;
            if (wasInside || IsLoneLiteral(line.Trim())) continue;
            yield return (line, index + 1);
        }
    }

    private static bool IsLoneLiteral(string trimmed)
    {
        var body = trimmed.TrimEnd(',', ';', ')');
        return (body.StartsWith('"') || body.StartsWith("$\"", StringComparison.Ordinal) || body.StartsWith("@\"", StringComparison.Ordinal))
            && body.EndsWith('"');
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static bool IsGenerated(string path)
    {
        var separator = Path.DirectorySeparatorChar;
        return path.Contains($"{separator}bin{separator}", StringComparison.Ordinal)
            || path.Contains($"{separator}obj{separator}", StringComparison.Ordinal)
            || path.Contains($"{separator}node_modules{separator}", StringComparison.Ordinal)
                || path.Contains($"{separator}.local{separator}", StringComparison.Ordinal);
    }
}

using System.Text.RegularExpressions;

namespace Cogrion.Portal.Tests.Architecture;

/// <summary>
/// The Portal's source as the architecture tests read it: every <c>.cs</c> and <c>.razor</c> file, its
/// namespace, the namespaces it can see (<c>using</c> and <c>@using</c> lines, the <c>_Imports.razor</c>
/// files above a component, its own namespace and those enclosing it) and the namespaces whose types it
/// names. A file depends on a namespace when it names one of that namespace's top-level types (or
/// extension methods) while
/// that namespace is in scope, or names the namespace itself in full. Reading text, not compiled code,
/// keeps this in the fast tests; comments are left out so a <c>see cref</c> is not a dependency.
/// </summary>
public sealed partial class SourceTree
{
    public const string RootNamespace = "Cogrion.Portal";

    public sealed record SourceFile(string Path, string Namespace, IReadOnlySet<string> Scope, IReadOnlySet<string> Words,
        IReadOnlyList<string> QualifiedNames);

    /// <summary>A reference from one file to a namespace, and the names that made it one.</summary>
    public sealed record Reference(string File, string Namespace, IReadOnlyList<string> Names);

    private SourceTree(string root, IReadOnlyList<SourceFile> files, IReadOnlyDictionary<string, HashSet<string>> typesByNamespace,
        IReadOnlyDictionary<string, HashSet<string>> extensionsByNamespace)
    {
        Root = root;
        Files = files;
        TypesByNamespace = typesByNamespace;
        ExtensionsByNamespace = extensionsByNamespace;
    }

    public IReadOnlyDictionary<string, HashSet<string>> ExtensionsByNamespace { get; }

    public string Root { get; }
    public IReadOnlyList<SourceFile> Files { get; }
    public IReadOnlyDictionary<string, HashSet<string>> TypesByNamespace { get; }

    public static SourceTree Load(string root)
    {
        var paths = Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".cs", StringComparison.Ordinal) || p.EndsWith(".razor", StringComparison.Ordinal))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        var texts = paths.ToDictionary(p => p, p => WithoutComments(File.ReadAllText(p)));
        var types = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var extensions = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var files = new List<SourceFile>();
        foreach (var path in paths)
        {
            var text = texts[path];
            var ns = NamespaceOf(root, path, text);
            var isRazor = path.EndsWith(".razor", StringComparison.Ordinal);
            if (Path.GetFileName(path) == "_Imports.razor") continue;
            var declared = types.TryGetValue(ns, out var set) ? set : types[ns] = new HashSet<string>(StringComparer.Ordinal);
            if (isRazor) declared.Add(Path.GetFileNameWithoutExtension(path));
            else
            {
                foreach (Match m in TopLevelType().Matches(text)) declared.Add(m.Groups["name"].Value);
                // Extension methods are used without naming their class (builder.AddPortalAgents()).
                foreach (Match m in ExtensionMethod().Matches(text))
                    (extensions.TryGetValue(ns, out var names) ? names : extensions[ns] = new HashSet<string>(StringComparer.Ordinal))
                        .Add(m.Groups["name"].Value);
            }

            var scope = new HashSet<string>(StringComparer.Ordinal);
            foreach (Match m in (isRazor ? RazorUsing() : CsUsing()).Matches(text)) scope.Add(m.Groups["ns"].Value);
            if (isRazor)
            {
                for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length >= root.Length; dir = Path.GetDirectoryName(dir))
                {
                    var imports = Path.Combine(dir, "_Imports.razor");
                    if (!File.Exists(imports)) continue;
                    foreach (Match m in RazorUsing().Matches(texts.GetValueOrDefault(imports) ?? WithoutComments(File.ReadAllText(imports))))
                        scope.Add(m.Groups["ns"].Value);
                }
            }
            var parts = ns.Split('.');
            for (var i = 1; i <= parts.Length; i++) scope.Add(string.Join('.', parts[..i]));
            var words = Word().Matches(text).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
            var qualified = Qualified().Matches(text).Where(m => !IsUsingOrNamespaceLine(text, m.Index)).Select(m => m.Value).ToList();
            files.Add(new SourceFile(Path.GetRelativePath(root, path).Replace('\\', '/'), ns, scope, words, qualified));
        }
        foreach (var ns in extensions.Keys.Where(ns => !types.ContainsKey(ns))) types[ns] = new HashSet<string>(StringComparer.Ordinal);
        return new SourceTree(root, files, types, extensions);
    }

    /// <summary>Every namespace of the Portal that <paramref name="file"/> depends on, with the names that show it.</summary>
    public IEnumerable<Reference> ReferencesOf(SourceFile file)
    {
        var found = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var ns in file.Scope)
        {
            if (!TypesByNamespace.TryGetValue(ns, out var declared)) continue;
            foreach (var word in file.Words.Where(declared.Contains))
                (found.TryGetValue(ns, out var names) ? names : found[ns] = new SortedSet<string>(StringComparer.Ordinal)).Add(word);
        }
        // An extension method counts when exactly one namespace in scope declares one of that name:
        // text cannot tell which of two ToText() a call binds to, the compiler picks by the receiver.
        foreach (var word in file.Words)
        {
            var declaring = file.Scope.Where(ns => ExtensionsByNamespace.TryGetValue(ns, out var names) && names.Contains(word)).ToList();
            if (declaring.Count != 1) continue;
            (found.TryGetValue(declaring[0], out var names) ? names : found[declaring[0]] = new SortedSet<string>(StringComparer.Ordinal)).Add(word);
        }
        foreach (var name in file.QualifiedNames)
        {
            // The longest prefix that is a namespace of ours: Cogrion.Portal.Features.Audit.Actor -> Cogrion.Portal.Features.Audit.
            var segments = name.Split('.');
            for (var i = segments.Length; i > 2; i--)
            {
                var ns = string.Join('.', segments[..i]);
                if (!TypesByNamespace.ContainsKey(ns)) continue;
                (found.TryGetValue(ns, out var names) ? names : found[ns] = new SortedSet<string>(StringComparer.Ordinal)).Add(name);
                break;
            }
        }
        return found.Where(f => f.Key != file.Namespace).Select(f => new Reference(file.Path, f.Key, f.Value.ToList()));
    }

    private static string NamespaceOf(string root, string path, string text)
    {
        if (FileScopedNamespace().Match(text) is { Success: true } cs) return cs.Groups["ns"].Value;
        if (RazorNamespace().Match(text) is { Success: true } razor) return razor.Groups["ns"].Value;
        var folder = Path.GetRelativePath(root, Path.GetDirectoryName(path)!).Replace('\\', '/');
        return folder == "." ? RootNamespace : RootNamespace + "." + folder.Replace('/', '.');
    }

    private static bool IsUsingOrNamespaceLine(string text, int index)
    {
        var start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var line = text[start..index].TrimStart();
        return line.StartsWith("using ", StringComparison.Ordinal) || line.StartsWith("@using ", StringComparison.Ordinal)
            || line.StartsWith("namespace ", StringComparison.Ordinal) || line.StartsWith("@namespace ", StringComparison.Ordinal);
    }

    private static string WithoutComments(string text) => RazorComment().Replace(BlockComment().Replace(LineComment().Replace(text, ""), ""), "");

    [GeneratedRegex(@"(?<!:)//[^\n]*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"@\*.*?\*@", RegexOptions.Singleline)]
    private static partial Regex RazorComment();

    [GeneratedRegex(@"^namespace\s+(?<ns>[\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex FileScopedNamespace();

    [GeneratedRegex(@"^@namespace\s+(?<ns>[\w.]+)", RegexOptions.Multiline)]
    private static partial Regex RazorNamespace();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?!static\b)(?:\w+\s*=\s*)?(?<ns>[\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex CsUsing();

    [GeneratedRegex(@"^@using\s+(?!static\b)(?:\w+\s*=\s*)?(?<ns>[\w.]+)", RegexOptions.Multiline)]
    private static partial Regex RazorUsing();

    /// <summary>Types declared at the start of a line: with file-scoped namespaces, nested types are indented.</summary>
    [GeneratedRegex(@"^(?:(?:public|internal|static|sealed|abstract|partial|readonly|file|ref)\s+)*"
        + @"(?:class|record(?:\s+struct|\s+class)?|struct|interface|enum)\s+(?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();

    [GeneratedRegex(@"\bstatic\s+[\w<>\[\]?,. ]+?\s+(?<name>[A-Z]\w*)\s*(?:<[^>]*>)?\s*\(\s*this\s")]
    private static partial Regex ExtensionMethod();

    [GeneratedRegex(@"\b[A-Z]\w*")]
    private static partial Regex Word();

    [GeneratedRegex(@"\bCogrion\.Portal(?:\.\w+)+")]
    private static partial Regex Qualified();
}

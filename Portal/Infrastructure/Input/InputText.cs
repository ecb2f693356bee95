using System.Globalization;
using System.Text;

namespace Cogrion.Portal.Infrastructure.Input;

/// <summary>
/// The one rule for text that enters the Portal, wherever it comes from (an API body, a route or
/// query value, a form field, an agent's message, a Blazor form). Two levels:
/// <list type="bullet">
/// <item><see cref="StorableProblem"/>: what PostgreSQL text cannot hold (NUL) and what is not
/// Unicode at all (an unpaired surrogate, which UTF-8 cannot encode and .NET would silently turn into
/// U+FFFD). Every text value passes this, at the HTTP boundary and in the rules the pages call.</item>
/// <item><see cref="DisplayNameProblem"/>: names that other people read (a tenant, a cloud account,
/// an agent) must also look like what they are: no bidirectional overrides or isolates (U+202E makes
/// "acme\u202Egnp.exe" read "acmeexe.png"), no invisible format or control characters.</item>
/// </list>
/// Each check returns the message to show for the field, or null when the value is fine.
/// </summary>
public static class InputText
{
    public const string NulMessage = "Contains a NUL character (U+0000), which cannot be stored.";
    public const string UnpairedSurrogateMessage = "Contains an unpaired UTF-16 surrogate: it is not valid Unicode text.";

    /// <summary>Null when <paramref name="value"/> can be stored as PostgreSQL text exactly as given.</summary>
    public static string? StorableProblem(string? value)
    {
        if (value is null) return null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0') return NulMessage;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(c)) return UnpairedSurrogateMessage;
        }
        return null;
    }

    /// <summary>True when <paramref name="value"/> passes <see cref="StorableProblem"/>.</summary>
    public static bool IsStorable(string? value) => StorableProblem(value) is null;

    /// <summary>
    /// Null when <paramref name="value"/> is fit to be shown to other people as a name: storable, and
    /// without control, format (bidirectional marks, overrides and isolates, zero-width characters,
    /// the BOM, the soft hyphen) or line/paragraph separator characters. Checked on the text as
    /// given; <see cref="NormalizeName"/> is applied to what is stored.
    /// </summary>
    public static string? DisplayNameProblem(string? value)
    {
        if (StorableProblem(value) is { } problem) return problem;
        if (value is null) return null;
        foreach (var rune in value.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                return $"Contains {Describe(rune)}, which would hide or reorder what others read: names must display as typed.";
        }
        return null;
    }

    /// <summary>
    /// The spelling a name is stored in: trimmed and in Unicode Normalization Form C, so "é" typed as
    /// one code point or as "e" plus a combining accent is one name (and one uniqueness check).
    /// Only call it on text that passed <see cref="StorableProblem"/>: an unpaired surrogate cannot be normalised.
    /// </summary>
    public static string NormalizeName(string value) => value.Trim().Normalize(NormalizationForm.FormC);

    /// <summary>Like <see cref="NormalizeName"/>, passing null through and leaving text that is not storable as it is (a rule refuses it).</summary>
    public static string? NormalizeNameOrNull(string? value) => value is null || !IsStorable(value) ? value : NormalizeName(value);

    private static string Describe(Rune rune) => rune.Value switch
    {
        0x202A => "a left-to-right embedding (U+202A)",
        0x202B => "a right-to-left embedding (U+202B)",
        0x202C => "a pop directional formatting (U+202C)",
        0x202D => "a left-to-right override (U+202D)",
        0x202E => "a right-to-left override (U+202E)",
        >= 0x2066 and <= 0x2069 => $"a bidirectional isolate (U+{rune.Value:X4})",
        0x200E or 0x200F or 0x061C => $"a bidirectional mark (U+{rune.Value:X4})",
        0x200B or 0x200C or 0x200D or 0x2060 or 0xFEFF => $"an invisible zero-width character (U+{rune.Value:X4})",
        _ => $"an invisible control character (U+{rune.Value:X4})",
    };
}

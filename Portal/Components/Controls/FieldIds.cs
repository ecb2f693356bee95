namespace Cogrion.Portal.Components.Controls;

/// <summary>
/// Element ids for an input's error text. MudBlazor links an input to its error text (aria-describedby,
/// so a screen reader reads the error with the field) only when the error has an id: every input
/// that can show a field error gets one from here.
/// </summary>
public static class FieldIds
{
    public static string Error(string field) =>
        "error-" + string.Concat(field.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));
}

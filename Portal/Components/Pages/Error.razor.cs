using System.Diagnostics;
using Microsoft.AspNetCore.Components;

namespace Cogrion.Portal.Components.Pages;

/// <summary>The page an unhandled error ends on: nothing half-applied, and a reference to give an administrator.</summary>
public partial class Error
{
    [CascadingParameter] private HttpContext? HttpContext { get; set; }

    private string? RequestId => Activity.Current?.TraceId.ToHexString() ?? HttpContext?.TraceIdentifier;
}

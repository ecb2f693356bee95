namespace Cogrion.Portal.Infrastructure.OpenTofu;

/// <summary>
/// One message of OpenTofu's machine-readable UI (<c>-json</c>), typed. By construction these carry
/// no attribute or output values: the parser drops them, so an event can be stored or shown as is.
/// </summary>
public abstract record TofuEvent(TofuLevel Level, string Message, DateTimeOffset? Timestamp);

public enum TofuLevel { Info, Warning, Error }

/// <summary>The resource an event is about, e.g. <c>module.stack.module.vpc.aws_subnet.private[0]</c>.</summary>
public sealed record TofuResource(string Address, string Module, string Type, string Name, string? Key);

/// <summary>A line that is not a JSON message (init prints plain text; so does a crashing provider).</summary>
public sealed record TofuTextLine(string Text, bool FromStandardError)
    : TofuEvent(FromStandardError ? TofuLevel.Warning : TofuLevel.Info, Text, null);

public sealed record TofuVersionMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp, string TofuVersion, string UiVersion)
    : TofuEvent(Level, Message, Timestamp);

public sealed record TofuLogMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp)
    : TofuEvent(Level, Message, Timestamp);

/// <summary>A file position a diagnostic points at.</summary>
public sealed record TofuSourceRange(string FileName, int Line, int Column);

public sealed record TofuDiagnostic(TofuLevel Severity, string Summary, string Detail, string? Address, TofuSourceRange? Range);

public sealed record TofuDiagnosticMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp, TofuDiagnostic Diagnostic)
    : TofuEvent(Level, Message, Timestamp);

/// <summary>A change to one resource: planned (<c>planned_change</c>) or found outside OpenTofu (<c>resource_drift</c>).</summary>
public sealed record TofuResourceChangeMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp, TofuResource Resource, string Action,
    string? Reason, bool IsDrift)
    : TofuEvent(Level, Message, Timestamp);

public sealed record TofuChangeCounts(int Add, int Change, int Import, int Remove, string Operation);

public sealed record TofuChangeSummaryMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp, TofuChangeCounts Changes)
    : TofuEvent(Level, Message, Timestamp);

public enum TofuHookKind
{
    ApplyStart, ApplyProgress, ApplyComplete, ApplyErrored, RefreshStart, RefreshComplete, ProvisionStart, ProvisionProgress,
    ProvisionComplete, ProvisionErrored
}

/// <summary>Progress of one resource through apply or refresh (the <c>hook</c> messages).</summary>
public sealed record TofuHookMessage(
    TofuLevel Level, string Message, DateTimeOffset? Timestamp, TofuHookKind Kind, TofuResource Resource,
    string? Action, TimeSpan? Elapsed, string? IdKey, string? IdValue)
    : TofuEvent(Level, Message, Timestamp);

/// <summary>The root module's outputs: names and sensitivity only. The values (which the stream does carry, sensitive ones included) are
/// dropped.</summary>
public sealed record TofuOutputsMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp, IReadOnlyList<TofuOutputName> Outputs)
    : TofuEvent(Level, Message, Timestamp);

public sealed record TofuOutputName(string Name, bool Sensitive, string? Action);

/// <summary>A message type this Portal does not know yet (the UI schema grows by minor versions): shown by its text.</summary>
public sealed record TofuOtherMessage(TofuLevel Level, string Message, DateTimeOffset? Timestamp, string Type)
    : TofuEvent(Level, Message, Timestamp);

namespace Cogrion.Portal.Components.Controls;

/// <summary>The colour family of a status chip; the chip's text always says the status in words too.</summary>
public enum StatusTone { Neutral, Info, Progress, Success, Warning, Error }

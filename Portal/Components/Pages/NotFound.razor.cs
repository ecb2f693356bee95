namespace Cogrion.Portal.Components.Pages;

/// <summary>The page for an address that leads nowhere (or nowhere this person may go: the same answer, so nothing leaks).</summary>
public partial class NotFound;

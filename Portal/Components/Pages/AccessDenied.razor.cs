namespace Cogrion.Portal.Components.Pages;

/// <summary>Where a signed-in person lands when a page needs a role they do not have.</summary>
public partial class AccessDenied;

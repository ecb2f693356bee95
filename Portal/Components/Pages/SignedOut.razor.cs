namespace Cogrion.Portal.Components.Pages;

/// <summary>The page after sign-out, once both the Portal's session and the identity provider's have ended.</summary>
public partial class SignedOut;

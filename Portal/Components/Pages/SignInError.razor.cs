namespace Cogrion.Portal.Components.Pages;

/// <summary>Where a sign-in that the identity provider or the Portal refused ends, with a way to try again.</summary>
public partial class SignInError;

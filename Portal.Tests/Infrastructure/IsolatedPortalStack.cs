namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>
/// An isolated <see cref="PortalStack"/> as a class fixture: xUnit starts one for each test class that takes
/// <c>IClassFixture&lt;IsolatedPortalStack&gt;</c>, shared by that class's tests and seen by no other class. For tests whose
/// effects the shared stack's other tests must not meet: ending sessions, an identity provider told to misbehave.
/// </summary>
public sealed class IsolatedPortalStack : IAsyncLifetime
{
    public PortalStack Stack { get; private set; } = null!;

    public async Task InitializeAsync() => Stack = await PortalStack.StartIsolatedAsync();

    public async Task DisposeAsync() => await Stack.DisposeAsync();
}

using Cogrion.Portal.Components.Theme;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Cogrion.Portal.Tests.Components;

/// <summary>
/// A bunit context with what every Portal component expects: MudBlazor's services, the brand theme,
/// and a browser that answers MudBlazor's own script calls (bunit's loose mode). Rendering happens in
/// process; there is no browser, so a test here checks markup and logic, never layout.
/// </summary>
public abstract class PortalTestContext : BunitContext, IAsyncLifetime
{
    protected PortalTestContext()
    {
        Services.AddMudServices();
        Services.AddSingleton(BrandTheme.Load(Path.Combine(AppContext.BaseDirectory, "assets", "brand.json")));
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Some of MudBlazor's services can only be disposed asynchronously: xunit calls this before Dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

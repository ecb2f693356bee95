using Cogrion.Portal.Hosting;

if (HealthProbe.IsRequested(args)) return await HealthProbe.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddPortalServices();

var app = builder.Build();
app.UsePortalPipeline();

return await app.RunPortalAsync();

/// <summary>The entry point, visible to the in-process host tests.</summary>
public partial class Program;

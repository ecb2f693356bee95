using Cogrion.Portal.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPortalServices();

var app = builder.Build();
app.UsePortalPipeline();

return await app.RunPortalAsync();

/// <summary>The entry point, visible to the in-process host tests.</summary>
public partial class Program;

using Microsoft.Extensions.Options;
using Cogrion.Agent;

if (args.Contains("--version"))
{
    Console.WriteLine($"cogrion-agent {AgentVersion.Current}");
    return 0;
}

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
builder.Services.AddHostedService<AgentService>();

using var host = builder.Build();
try
{
    host.Services.GetRequiredService<IStartupValidator>().Validate();
    await host.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine("The agent cannot start: its configuration is invalid.");
    foreach (var failure in ex.Failures) Console.Error.WriteLine($"  - {failure}");
    return 2;
}

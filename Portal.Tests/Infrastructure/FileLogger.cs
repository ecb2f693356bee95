using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>Writes a component's log to a file a failing test can point at (the simulated cluster's, for one).</summary>
public sealed class FileLoggerProvider(string path) : ILoggerProvider
{
    private readonly Lock gate = new();

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    private void Write(string line)
    {
        lock (gate) File.AppendAllText(path, line + Environment.NewLine);
    }

    public void Dispose()
    {
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: " +
                $"{formatter(state, exception)}{(exception is null ? "" : Environment.NewLine + exception)}");
    }
}

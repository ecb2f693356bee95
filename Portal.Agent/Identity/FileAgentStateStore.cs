using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Cogrion.Agent.Identity;

/// <summary>
/// The sandbox's state store: state.json in Agent:StateDirectory, readable by the agent's user
/// only, replaced atomically (write then rename) so a crash never leaves half a key.
/// </summary>
public sealed class FileAgentStateStore(IOptions<AgentOptions> options) : IAgentStateStore
{
    private string Path => System.IO.Path.Combine(options.Value.StateDirectory, "state.json");

    public async Task<AgentState?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path)) return null;
        await using var stream = File.OpenRead(Path);
        return await JsonSerializer.DeserializeAsync(stream, AgentStateJson.Default.AgentState, cancellationToken);
    }

    public async Task SaveAsync(AgentState state, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Value.StateDirectory);
        var temporary = Path + ".tmp";
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(temporary, create))
            await JsonSerializer.SerializeAsync(stream, state, AgentStateJson.Default.AgentState, cancellationToken);
        File.Move(temporary, Path, overwrite: true);
    }

    public Task DeleteAsync(CancellationToken cancellationToken)
    {
        File.Delete(Path);
        return Task.CompletedTask;
    }
}

using System.Diagnostics;
using Cogrion.Lifeline;
using Cogrion.Portal.Infrastructure.Processes;
using Cogrion.Portal.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cogrion.Portal.Tests.Processes;

/// <summary>
/// Child processes cannot outlive the process that started them (docs/adr/0060), tried with real
/// processes and real signals: the holder of the lifeline is SIGKILLed, as the Portal would be.
/// </summary>
public sealed class LifelineTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cogrion-lifeline-test-").FullName;
    private readonly LifelineLauncher launcher = new(NullLogger<LifelineLauncher>.Instance);
    private readonly LeftoverProcesses leftovers = new(TimeProvider.System, NullLogger<LeftoverProcesses>.Instance);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string FileIn(string name) => Path.Combine(directory, name);

    private static ProcessStartInfo Bash(string script)
    {
        var start = new ProcessStartInfo("bash");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        return start;
    }

    private static bool IsRunning(int processId) => ProcessTable.Find(processId) is not null;

    private async Task<int> PidFromAsync(string file) =>
        int.Parse((await Eventually.ValueAsync(() => Task.FromResult(File.Exists(file) ? File.ReadAllText(file).Trim() : ""), text => text.Length > 0, $"{file} to be written")));

    [Fact]
    public async Task The_command_runs_in_a_process_group_of_its_own_with_its_output_and_exit_code_passed_through()
    {
        using var process = await launcher.StartAsync(Bash("echo out; echo err >&2; exit 7"), TimeSpan.FromSeconds(5), CancellationToken.None);

        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(CancellationToken.None);

        Assert.Equal("out\n", output);
        Assert.Equal("err\n", error);
        Assert.Equal(7, process.ExitCode);
        Assert.NotEqual(Environment.ProcessId, process.Identity.ProcessId);
        Assert.True(process.Identity.IsOnThisSystem);
        Assert.True(process.Identity.StartTicks > 0);
    }

    [Fact]
    public async Task The_group_is_the_lifelines_and_a_signal_to_it_reaches_the_command()
    {
        var trapped = FileIn("trapped");
        using var process = await launcher.StartAsync(Bash($"trap 'echo interrupted > {trapped}; exit 0' INT; echo $$ > {FileIn("pid")}; sleep 300 & wait"), TimeSpan.FromSeconds(5), CancellationToken.None);
        var child = await PidFromAsync(FileIn("pid"));

        Assert.Equal(process.ChildProcessId, child);
        Assert.Equal(process.Identity.ProcessId, ProcessTable.Find(child)!.ProcessGroup);
        Assert.True(process.Interrupt());
        await process.WaitForExitAsync(CancellationToken.None);

        Assert.Equal("interrupted", File.ReadAllText(trapped).Trim());
        Assert.Equal(0, process.ExitCode);
        // The background sleep ignored SIGINT (bash's rule for background jobs); the lifeline ended it with the group.
        Assert.Empty(ProcessTable.GroupMembers(process.Identity.ProcessId));
    }

    [Fact]
    public async Task A_command_that_cannot_start_says_why()
    {
        var missing = FileIn("no-such-program");

        var refused = await Assert.ThrowsAsync<ChildProcessNotStartedException>(() => launcher.StartAsync(new ProcessStartInfo(missing), TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.Contains(missing, refused.Message);
        Assert.Contains("No such file or directory", refused.Message);
    }

    /// <summary>
    /// The parent holds the lifeline's pipe and dies by SIGKILL, as a Portal killed mid-apply would.
    /// bash stands in for the Portal: it opens the pipe to the lifeline, then becomes <c>sleep</c>,
    /// which keeps the pipe's write end until it is killed.
    /// </summary>
    private static Process StartHolder(string command, double graceSeconds)
    {
        var start = Bash($"exec 3> >(exec \"{LifelineLauncher.Executable}\" --grace {graceSeconds} -- bash -c '{command}' > /dev/null); exec sleep 600");
        start.RedirectStandardOutput = true;
        return Process.Start(start)!;
    }

    [Fact]
    public async Task When_its_parent_is_killed_the_command_is_interrupted_then_what_it_left_running_is_killed()
    {
        var trapped = FileIn("trapped");
        using var holder = StartHolder($"trap \"echo interrupted > {trapped}; exit 0\" INT; sleep 300 & echo $! > {FileIn("grandchild")}; echo $$ > {FileIn("pid")}; wait", graceSeconds: 30);
        var child = await PidFromAsync(FileIn("pid"));
        var grandchild = await PidFromAsync(FileIn("grandchild"));
        Assert.True(IsRunning(child));
        Assert.False(File.Exists(trapped)); // alive and untouched while its parent lives

        holder.Kill(); // SIGKILL to the holder alone: no chance to clean up

        await Eventually.ValueAsync(() => Task.FromResult(IsRunning(child) || IsRunning(grandchild)), running => !running, "the command and its own child to be gone");
        Assert.Equal("interrupted", File.ReadAllText(trapped).Trim()); // stopped as Ctrl-C would, not killed outright
    }

    [Fact]
    public async Task A_command_that_ignores_the_interrupt_is_killed_when_the_grace_period_ends()
    {
        using var holder = StartHolder($"trap \"\" INT; echo $$ > {FileIn("pid")}; sleep 300", graceSeconds: 1);
        var child = await PidFromAsync(FileIn("pid"));
        Assert.True(IsRunning(child));

        holder.Kill();

        await Eventually.ValueAsync(() => Task.FromResult(IsRunning(child)), running => !running, "the command to be killed after the grace period");
    }

    [Fact]
    public async Task A_leftover_group_is_found_by_its_identity_and_ended()
    {
        // Long grace and no holder death: only the leftover sweep can end this one.
        using var process = await launcher.StartAsync(Bash($"trap '' INT; echo $$ > {FileIn("pid")}; sleep 300"), TimeSpan.FromMinutes(5), CancellationToken.None);
        var child = await PidFromAsync(FileIn("pid"));
        var recorded = process.Identity;
        var members = LeftoverProcesses.Members(recorded).Select(m => m.ProcessId).ToList();
        Assert.Contains(recorded.ProcessId, members); // the lifeline leads the group
        Assert.Contains(child, members);

        var outcome = await leftovers.EndAsync(recorded, TimeSpan.FromMilliseconds(500), CancellationToken.None);

        Assert.Equal(LeftoverOutcome.Killed, outcome); // it ignored SIGINT
        Assert.False(IsRunning(child));
        Assert.False(LeftoverProcesses.MayBeAlive(recorded));
        Assert.Equal(LeftoverOutcome.Gone, await leftovers.EndAsync(recorded, TimeSpan.FromMilliseconds(500), CancellationToken.None));
    }

    [Fact]
    public async Task A_recycled_pid_or_a_process_of_another_system_is_never_signalled()
    {
        using var process = await launcher.StartAsync(Bash("sleep 300"), TimeSpan.FromSeconds(5), CancellationToken.None);
        var live = process.Identity;
        var recycled = live with { StartTicks = live.StartTicks - 1 }; // same pid, an earlier process: not this one
        var elsewhere = live with { System = "another-boot/pid:[1]" };

        Assert.Equal(LeftoverOutcome.Gone, await leftovers.EndAsync(recycled, TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.Equal(LeftoverOutcome.Elsewhere, await leftovers.EndAsync(elsewhere, TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.True(LeftoverProcesses.MayBeAlive(elsewhere)); // nobody here can tell: it counts as alive
        Assert.True(IsRunning(live.ProcessId));
        Assert.False(process.HasExited);
    }
}

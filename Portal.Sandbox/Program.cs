using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// tofu-sandbox: answers the tofu command lines the Portal's runner uses (version, init, plan, show,
/// apply, output) in the working directory the runner prepared, the way OpenTofu would, against a
/// simulated AWS-like account whose state lives at the local backend's path. See docs/sandbox.md.
/// </summary>
public static class Program
{
    /// <summary>The OpenTofu version the simulator presents; TOFU_SANDBOX_VERSION overrides it (to test version checks).</summary>
    public static string TofuVersion { get; } = Environment.GetEnvironmentVariable("TOFU_SANDBOX_VERSION") is { Length: > 0 } v ? v : "1.10.7";

    private const string InterruptMessage = "Interrupt received.\nPlease wait for OpenTofu to exit or data loss may occur.\nGracefully shutting " +
        "down...";

    public static async Task<int> Main(string[] args)
    {
        var ui = new Ui(Console.Out);
        using var interrupt = new CancellationTokenSource();
        var json = args.Contains("-json");

        // Like OpenTofu: the first interrupt asks for a graceful stop (in-flight work ends, state is
        // saved, the lock released); the process then exits non-zero by itself.
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Environment.GetEnvironmentVariable("TOFU_SANDBOX_IGNORE_INTERRUPT") == "1" || interrupt.IsCancellationRequested) return;
            if (json) ui.Log(InterruptMessage); else Console.Error.WriteLine(InterruptMessage);
            interrupt.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        var directory = Environment.CurrentDirectory;
        try
        {
            var command = Command.Parse(args);
            return command.Name switch
            {
                "version" => Version(command, directory),
                "init" => Init(command, directory),
                "plan" => await PlanAsync(command, ui, directory, interrupt.Token),
                "show" => Show(command, directory),
                "apply" => await ApplyAsync(command, ui, directory, interrupt.Token),
                "output" => Output(command, directory),
                "force-unlock" => ForceUnlock(command, directory),
                _ => Usage($"OpenTofu has no command named \"{command.Name}\"."),
            };
        }
        catch (SandboxError error) when (json)
        {
            ui.Diagnostic(error.Diagnostic);
            return 1;
        }
        catch (SandboxError error)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"Error: {error.Diagnostic.Summary}");
            if (error.Diagnostic.Detail.Length > 0)
            {
                Console.Error.WriteLine();
                Console.Error.WriteLine(error.Diagnostic.Detail);
            }
            return 1;
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            if (json) ui.Diagnostic(Diagnostic.Error("execution halted", ""));
            return 1;
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine(problem);
        Console.Error.WriteLine("The sandbox simulator supports: version, init, plan, show, apply, output, force-unlock.");
        return 1;
    }

    private static int Version(Command command, string directory)
    {
        if (!command.Json)
        {
            Console.WriteLine($"OpenTofu v{TofuVersion}");
            Console.WriteLine("on linux_amd64");
            return 0;
        }
        var providers = new JsonObject();
        if (Directory.Exists(Path.Combine(directory, ".terraform")))
        {
            providers["registry.opentofu.org/hashicorp/aws"] = "5.95.0";
            providers["registry.opentofu.org/alekc/kubectl"] = "2.1.3";
        }
        Console.WriteLine(new JsonObject
        {
            ["terraform_version"] = TofuVersion,
            ["platform"] = "linux_amd64",
            ["provider_selections"] = providers,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>Init prints plain text, as OpenTofu's does without -json; failures go to stderr.</summary>
    private static int Init(Command command, string directory)
    {
        var root = RootModule.Load(directory, null);
        var moduleDirectory = Path.GetFullPath(root.ModuleSource, directory);
        if (!Directory.Exists(moduleDirectory))
            throw new SandboxError(Diagnostic.Error("Unreadable module directory",
                $"Unable to evaluate directory symlink: lstat {root.ModuleSource}: no such file or directory"));

        BackendInit.Initialize(command, directory, root.StatePath(), Console.Out);
        Console.WriteLine("Initializing modules...");
        Console.WriteLine($"- stack in {root.ModuleSource}");
        // The community modules the called module declares, as init downloads them.
        (string Source, string Version, string Name)[] modules = root.IsBootstrap
            ? [("terraform-aws-modules/s3-bucket/aws", "4.11.0", "state_bucket")]
            : [("terraform-aws-modules/vpc/aws", "5.21.0", "vpc"), ("terraform-aws-modules/eks/aws", "20.37.2", "eks")];
        foreach (var (source, version, name) in modules)
        {
            Console.WriteLine($"Downloading registry.opentofu.org/{source} {version} for stack.{name}...");
            Console.WriteLine($"- stack.{name} in .terraform/modules/stack.{name}");
        }
        Console.WriteLine();
        Console.WriteLine("Initializing provider plugins...");
        Console.WriteLine("- Finding hashicorp/aws versions matching \">= 5.95.0, < 6.0.0\"...");
        if (!root.IsBootstrap) Console.WriteLine("- Finding alekc/kubectl versions matching \"~> 2.1\"...");
        Console.WriteLine("- Installing hashicorp/aws v5.95.0...");
        Console.WriteLine("- Installed hashicorp/aws v5.95.0 (signed, key ID 0C0AF313E5FD9F80)");
        if (!root.IsBootstrap)
        {
            Console.WriteLine("- Installing alekc/kubectl v2.1.3...");
            Console.WriteLine("- Installed alekc/kubectl v2.1.3 (signed by a HashiCorp partner, key ID 772FB27A86DAFCE7)");
        }
        Console.WriteLine();
        Console.WriteLine("OpenTofu has created a lock file .terraform.lock.hcl to record the provider");
        Console.WriteLine("selections it made above.");
        Console.WriteLine();
        Console.WriteLine("OpenTofu has been successfully initialized!");

        File.WriteAllText(Path.Combine(directory, ".terraform.lock.hcl"),
            "# This file is maintained automatically by \"tofu init\".\n# Manual edits may be lost in future updates.\n\nprovider " +
                "\"registry.opentofu.org/hashicorp/aws\" {\n  version = \"5.95.0\"\n}\n");
        return 0;
    }

    private static async Task<int> PlanAsync(Command command, Ui ui, string directory, CancellationToken interrupt)
    {
        RequireJson(command);
        ui.Version(TofuVersion);
        RequireInit(directory);
        var root = RootModule.Load(directory, command.VarFile, evaluateInputs: true);
        BackendInit.RequireUnchanged(directory, root.StatePath());
        // A plan holds the state lock while it reads the state, as OpenTofu's does (-lock=true).
        return await LockedAsync(ui, root.StatePath(), "OperationTypePlan", () => PlanLockedAsync(command, ui, directory, root, interrupt));
    }

    private static async Task<int> PlanLockedAsync(Command command, Ui ui, string directory, RootModule root, CancellationToken interrupt)
    {
        if (root.IsBootstrap) BootstrapStack.ValidateCall(root);
        root.RequireAssumedRole();
        var scenario = Scenario.For(root.WorkspaceName, root);
        var state = SandboxState.Load(root.StatePath());
        var drifts = OutsideChanges.Load(root.StatePath()).Refresh(state);

        foreach (var (resource, id) in state.Resources.Values.OrderBy(r => r.Resource.Wave).ThenBy(r => r.Resource.Address, StringComparer.Ordinal))
        {
            ui.Hook("refresh_start", $"{resource.Address}: Refreshing state... [id={id}]", resource, id: id);
            await scenario.PauseAsync(0.2, interrupt);
            // An object deleted outside OpenTofu reads back as nothing: the hook has no id to name.
            if (drifts.Any(d => d.Cloud is null && d.Prior.Address == resource.Address))
                ui.Hook("refresh_complete", $"{resource.Address}: Refresh complete", resource);
            else
                ui.Hook("refresh_complete", $"{resource.Address}: Refresh complete [id={id}]", resource, id: id);
        }
        await scenario.PauseAsync(3, interrupt);
        // The plan is made against what the refresh found, as OpenTofu's is (its prior state); the
        // state file itself is not written by a plan.
        state.Refresh(drifts, save: false);

        if (scenario.FailPlan)
            throw new SandboxError(Diagnostic.Error("Invalid value for variable",
                $"The workspace name \"{root.WorkspaceName}\" asks the sandbox to fail the plan.\n\nThis was checked by the validation rule at " +
                    $"{root.ModuleSource}/variables.tf:21,3-13.",
                file: "main.tf.json", line: 5, code: $"      \"workspace_name\": \"{root.WorkspaceName}\",", context: "module \"stack\""));

        if (root.IsBootstrap && !command.Destroy) BootstrapStack.CheckRegionGuard(root);
        var plan = SandboxPlan.Compute(root, state, command.Destroy, drifts);
        if (root.IsBootstrap) BootstrapStack.CheckPreventDestroy(root, plan.Changes);
        // OpenTofu reports drift with the plan, before its planned changes (views.OperationJSON.Plan).
        foreach (var drift in drifts)
            ui.ResourceDrift(drift.Prior, drift.Action);
        foreach (var change in plan.Changes)
            ui.PlannedChange(change.Resource, change.UiAction, change.Reason);
        ui.ChangeSummary(plan.Add, plan.Change, plan.Remove, "plan");
        var outputs = new JsonObject();
        foreach (var (name, sensitive) in root.Outputs)
        {
            var action = command.Destroy ? "delete" : state.Outputs.ContainsKey(name) ? "noop" : "create";
            if (action != "noop") outputs[name] = new JsonObject { ["sensitive"] = sensitive, ["action"] = action };
        }
        if (outputs.Count > 0) ui.Outputs(outputs);
        if (command.Out is { } path) plan.Save(Path.Combine(directory, path));
        return 0;
    }

    private static int Show(Command command, string directory)
    {
        RequireJson(command);
        var path = command.Positional
            ?? throw new SandboxError(Diagnostic.Error("Too few arguments", "The sandbox shows saved plans only: tofu show -json <planfile>."));
        var plan = SandboxPlan.Load(Path.Combine(directory, path));
        var root = RootModule.Load(directory, null);
        var state = SandboxState.Load(plan.StatePath ?? root.StatePath());
        state.Refresh(plan.Drifts, save: false);
        Console.WriteLine(plan.ToJsonRepresentation(state).ToJsonString());
        return 0;
    }

    private static async Task<int> ApplyAsync(Command command, Ui ui, string directory, CancellationToken interrupt)
    {
        RequireJson(command);
        ui.Version(TofuVersion);
        RequireInit(directory);
        var path = command.Positional ?? throw new SandboxError(Diagnostic.Error("No saved plan",
            "The sandbox applies saved plans only: tofu apply -json <planfile>, as the Portal runs it."));
        if (command.VarFile is not null)
            throw new SandboxError(Diagnostic.Error("Can't set variables when applying a saved plan",
                "The -var and -var-file options cannot be used when applying a saved plan file, because a saved plan includes the variable values " +
                    "that were set when it was created."));
        var plan = SandboxPlan.Load(Path.Combine(directory, path));
        var root = RootModule.Load(directory, null);
        var statePath = plan.StatePath ?? root.StatePath();
        return await LockedAsync(ui, statePath, "OperationTypeApply", () => ApplyLockedAsync(ui, plan, root, directory, statePath, interrupt));
    }

    private static async Task<int> ApplyLockedAsync(Ui ui, SandboxPlan plan, RootModule root, string directory, string statePath,
        CancellationToken interrupt)
    {
        var state = SandboxState.Load(statePath);
        if (state.Serial != plan.PriorSerial)
            throw new SandboxError(Diagnostic.Error("Saved plan is stale",
                "The given plan file can no longer be applied because the state was changed by another operation after the plan was created."));
        // Apply starts from the plan's refreshed state and saves it: from here the state knows what was
        // changed by hand, so the console's entries for those objects are spent.
        var journal = ApplyJournal.Start(statePath);
        var code = 1;
        try
        {
            state.Refresh(plan.Drifts, save: true);
            OutsideChanges.Load(statePath).Reconciled(plan.Drifts);
            foreach (var change in plan.Changes)
                ui.PlannedChange(change.Resource, change.UiAction, change.Reason);
            var effects = root.IsBootstrap ? null
                : new ClusterEffects(plan.Variables, Path.GetFullPath(root.ModuleSource, directory), statePath);
            var scenario = Scenario.For(SandboxStack.Text(plan.Variables, "workspace_name") ?? "", root);
            return code = await new Applier(ui, state, scenario, root, effects).ApplyAsync(plan, interrupt);
        }
        finally
        {
            journal.End(code);
        }
    }

    /// <summary>tofu output -json: every root output with its value, sensitive ones included, as OpenTofu prints them.</summary>
    private static int Output(Command command, string directory)
    {
        RequireJson(command);
        RequireInit(directory);
        var root = RootModule.Load(directory, null);
        BackendInit.RequireUnchanged(directory, root.StatePath());
        var state = SandboxState.Load(root.StatePath());
        var sorted = new JsonObject(state.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal)
            .Select(o => KeyValuePair.Create(o.Key, o.Value?.DeepClone())));
        Console.WriteLine(sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="body"/> holding the state lock, and releases it however the body ends (an
    /// interrupt included); only a killed process leaves the lock behind. A lock that is no longer ours
    /// when released (someone forced it open) fails the command, as in OpenTofu.
    /// </summary>
    private static async Task<int> LockedAsync(Ui ui, string statePath, string operation, Func<Task<int>> body)
    {
        var held = StateLock.Acquire(statePath, operation);
        var released = true;
        int code;
        try
        {
            code = await body();
        }
        finally
        {
            if (held.Release() is { } problem)
            {
                ui.Diagnostic(problem);
                released = false;
            }
        }
        return released ? code : 1;
    }

    /// <summary>
    /// tofu force-unlock -force LOCK_ID: removes the state's lock if it has this id. Plain text, as
    /// OpenTofu prints it (the command has no -json). Without -force OpenTofu would ask; the sandbox never asks.
    /// </summary>
    private static int ForceUnlock(Command command, string directory)
    {
        var id = command.Positional;
        if (id is null)
        {
            Console.Error.WriteLine("Expected a single argument: LOCK_ID");
            return 1;
        }
        RequireInit(directory);
        var root = RootModule.Load(directory, null);
        BackendInit.RequireUnchanged(directory, root.StatePath());
        if (!command.Force)
        {
            Console.Error.WriteLine("Error asking for confirmation: the sandbox does not ask; run tofu force-unlock -force LOCK_ID");
            return 1;
        }
        if (StateLock.Unlock(root.StatePath(), id) is { } problem)
        {
            Console.Error.WriteLine($"Failed to unlock state: {problem}");
            return 1;
        }
        Console.WriteLine("OpenTofu state has been successfully unlocked!");
        Console.WriteLine();
        Console.WriteLine("The state has been unlocked, and OpenTofu commands should now be able to");
        Console.WriteLine("obtain a new lock on the remote state.");
        return 0;
    }

    private static void RequireJson(Command command)
    {
        if (!command.Json)
            throw new SandboxError(Diagnostic.Error("The sandbox speaks -json only", $"Run tofu {command.Name} with -json, as the Portal does."));
    }

    private static void RequireInit(string directory)
    {
        if (!Directory.Exists(Path.Combine(directory, ".terraform")))
            throw new SandboxError(Diagnostic.Error("Backend initialization required, please run \"tofu init\"",
                "Reason: Initial configuration of the requested backend \"local\"\n\nThe \"backend\" is the interface that OpenTofu uses to store " +
                    "state,\nperform operations, etc. If this message is showing up, it means that the\nOpenTofu configuration you're using is " +
                    "using a custom configuration for\nthe OpenTofu backend."));
    }
}

/// <summary>One tofu command line: the command, the flags the Portal uses, and at most one positional argument.</summary>
public sealed record Command(string Name, bool Json, bool Destroy, string? Out, string? VarFile, string? Positional)
{
    private static readonly string[] Ignored = ["-no-color", "-auto-approve", "-compact-warnings"];

    /// <summary>-input=false: nothing may be asked, so a migration that would need a "yes" fails instead.</summary>
    public bool NoInput { get; init; }

    /// <summary>init: copy the state to a changed backend. Implied by -force-copy, as in OpenTofu.</summary>
    public bool MigrateState { get; init; }

    /// <summary>init: answer "yes" to copying the state, without asking.</summary>
    public bool ForceCopy { get; init; }

    /// <summary>init: take the backend configuration as new, ignoring (and not copying) the previous one.</summary>
    public bool Reconfigure { get; init; }

    /// <summary>force-unlock: do not ask for confirmation.</summary>
    public bool Force { get; init; }

    public static Command Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
            throw new SandboxError(Diagnostic.Error("No command", "Usage: tofu [global options] <subcommand> [args]"));
        bool json = false, destroy = false, noInput = false, migrateState = false, forceCopy = false, reconfigure = false, force = false;
        string? output = null, varFile = null, positional = null;
        foreach (var arg in args.Skip(1))
        {
            if (arg == "-json") json = true;
            else if (arg == "-destroy") destroy = true;
            else if (arg.StartsWith("-out=", StringComparison.Ordinal)) output = arg[5..];
            else if (arg.StartsWith("-var-file=", StringComparison.Ordinal)) varFile = arg[10..];
            else if (arg is "-input=false" or "-input=0") noInput = true;
            else if (arg is "-input=true" or "-input=1") noInput = false;
            else if (arg == "-migrate-state") migrateState = true;
            else if (arg == "-force-copy") forceCopy = true;
            else if (arg == "-reconfigure") reconfigure = true;
            else if (arg == "-force") force = true;
            else if (Ignored.Contains(arg)) continue;
            else if (arg.StartsWith('-')) throw new SandboxError(Diagnostic.Error("Failed to parse command-line flags",
                $"flag provided but not defined: {arg.Split('=')[0]}"));
            else if (positional is null) positional = arg;
            else throw new SandboxError(Diagnostic.Error("Too many command line arguments", "Expected at most one positional argument."));
        }
        return new Command(args[0], json, destroy, output, varFile, positional)
        {
            NoInput = noInput,
            MigrateState = migrateState || forceCopy,
            ForceCopy = forceCopy,
            Reconfigure = reconfigure,
            Force = force,
        };
    }
}

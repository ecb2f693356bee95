using System.Text.Json.Nodes;

namespace Cogrion.Sandbox;

/// <summary>
/// The backend step of <c>tofu init</c>, as OpenTofu does it for the local backend: the first init
/// records the backend configuration in <c>.terraform/terraform.tfstate</c>; a later init that finds a
/// different configuration refuses to go on unless told to <c>-migrate-state</c> (copy the state from
/// the old path to the new one) or <c>-reconfigure</c> (forget the old one). The Portal relies on this
/// for the state backend bootstrap (ADR 0041): apply with state in the working directory, then move
/// that state into the bucket the apply created.
/// </summary>
public static class BackendInit
{
    private const string ChangedDetail =
        "A change in the backend configuration has been detected, which may require migrating existing state.\n\n" +
        "If you wish to attempt automatic migration of the state, use \"tofu init -migrate-state\".\n" +
        "If you wish to store the current configuration with no changes to the state, use \"tofu init -reconfigure\".";

    /// <summary>Prints OpenTofu's backend lines, migrates the state when asked to, and records the configuration.</summary>
    public static void Initialize(Command command, string directory, string statePath, TextWriter output)
    {
        if (command.MigrateState && command.Reconfigure)
            throw new SandboxError(Diagnostic.Error("Wrong combination of options",
                "The -migrate-state and -reconfigure options are mutually-exclusive"));

        // -reconfigure: as if this directory had never been initialised; the old state stays where it is.
        var previous = command.Reconfigure ? null : RecordedStatePath(directory);
        output.WriteLine();
        output.WriteLine("Initializing the backend...");
        if (previous is null)
        {
            BackendSet(output);
        }
        else if (!SamePath(previous, statePath))
        {
            if (!command.MigrateState) throw new SandboxError(Diagnostic.Error("Backend configuration changed", ChangedDetail));
            output.WriteLine("Backend configuration changed!");
            output.WriteLine();
            output.WriteLine("OpenTofu has detected that the configuration specified for the backend");
            output.WriteLine("has changed. OpenTofu will now check for existing state in the backends.");
            Migrate(previous, statePath, command);
            BackendSet(output);
        }
        // Unchanged: OpenTofu reuses the saved backend and says nothing more about it.
        Record(directory, statePath);
    }

    /// <summary>
    /// What plan and output check before they touch state: a backend configuration that differs from
    /// the one init recorded needs another init, as in OpenTofu. (An apply of a saved plan uses the
    /// backend recorded in the plan instead.)
    /// </summary>
    public static void RequireUnchanged(string directory, string statePath)
    {
        if (RecordedStatePath(directory) is { } recorded && !SamePath(recorded, statePath))
            throw new SandboxError(Diagnostic.Error("Backend initialization required: please run \"tofu init\"",
                "Reason: Backend configuration block has changed\n\n" +
                "The \"backend\" is the interface that OpenTofu uses to store state,\nperform operations, etc. If this message is showing up, it " +
                    "means that the\n" +
                "OpenTofu configuration you're using is using a custom configuration for\nthe OpenTofu backend.\n\n" +
                "Changes to backend configurations require reinitialization. This allows\nOpenTofu to set up the new configuration, copy existing " +
                    "state, etc. Please run\n" +
                "\"tofu init\" with either the \"-reconfigure\" or \"-migrate-state\" flags to\nuse the current configuration.\n\n" +
                "If the change reason above is incorrect, please verify your configuration\nhasn't changed and try again. At this point, no " +
                    "changes to your existing\n" +
                "configuration or state have been made."));
    }

    /// <summary>The local backend's state path that the last init recorded, or null before the first init.</summary>
    public static string? RecordedStatePath(string directory) =>
        RootModule.ReadObject(RecordPath(directory))?["backend"]?["config"]?["path"]?.GetValue<string>();

    private static void BackendSet(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("Successfully configured the backend \"local\"! OpenTofu will automatically");
        output.WriteLine("use this backend unless the backend configuration changes.");
    }

    /// <summary>
    /// OpenTofu's single-workspace migration: nothing to do when the source is empty or already equal to
    /// the destination; otherwise it needs a "yes", which -force-copy gives and -input=false forbids
    /// asking for. The copy keeps lineage and serial, and overwrites whatever the destination held.
    /// The source stays as it was.
    /// </summary>
    private static void Migrate(string source, string destination, Command command)
    {
        if (IsEmpty(source)) return;
        if (File.Exists(destination) && File.ReadAllText(destination) == File.ReadAllText(source)) return;
        if (!command.ForceCopy)
            throw new SandboxError(Diagnostic.Error("Can't ask approval for state migration when interactive input is disabled.",
                "If non-interactive operation is desired, consider adding the \"-force-copy\"\noption. Otherwise, please remove the " +
                    "\"-input=false\" option and try again."));
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var temporary = destination + ".tmp";
        File.Copy(source, temporary, overwrite: true);
        File.Move(temporary, destination, overwrite: true);
    }

    /// <summary>OpenTofu's notion of an empty state: no file, or no resources and no outputs.</summary>
    private static bool IsEmpty(string statePath) =>
        RootModule.ReadObject(statePath) is not { } state
        || ((state["resources"] as JsonArray ?? []).Count == 0 && (state["outputs"] as JsonObject ?? []).Count == 0);

    private static void Record(string directory, string statePath)
    {
        var dotTerraform = Directory.CreateDirectory(Path.Combine(directory, ".terraform"));
        File.WriteAllText(Path.Combine(dotTerraform.FullName, "terraform.tfstate"), new JsonObject
        {
            ["version"] = 3,
            ["terraform_version"] = Program.TofuVersion,
            ["backend"] = new JsonObject
            {
                ["type"] = "local",
                ["config"] = new JsonObject { ["path"] = statePath, ["workspace_dir"] = null },
                ["hash"] = Hash(statePath),
            },
        }.ToJsonString());
    }

    private static string RecordPath(string directory) => Path.Combine(directory, ".terraform", "terraform.tfstate");

    private static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    private static uint Hash(string text) =>
        BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("local\n" + text)), 0);
}

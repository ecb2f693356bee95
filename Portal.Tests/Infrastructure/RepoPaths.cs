namespace Cogrion.Portal.Tests.Infrastructure;

/// <summary>Where things are in the checkout, found from the test binary's location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Tools => Path.Combine(Root, "tools");
    public static string DevIdp => Path.Combine(Tools, "dev-idp");

    /// <summary>The Portal's build output, copied next to the tests by the project reference.</summary>
    public static string PortalBinary => Path.Combine(AppContext.BaseDirectory, "Portal");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above " + AppContext.BaseDirectory);
    }
}

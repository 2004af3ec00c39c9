namespace Rotation.Core.Tests.Surface;

/// <summary>The repository root: the nearest folder above the test binaries that holds Module.sln.</summary>
public static class RepoRoot
{
    public static string Path { get; } = Find();

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Module.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Module.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}

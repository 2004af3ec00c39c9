namespace Rotation.Core.Tests.Infrastructure;

/// <summary>
/// Connection details of the real servers that tests/servers.sh starts (source its env file, or run tests/run.sh).
/// A missing variable fails the test with a clear message: a test that needs a server never silently skips.
/// </summary>
public static class TestEnvironment
{
    public static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? v
            : throw new InvalidOperationException(
                $"{name} is not set: this test needs the real servers. Run tests/run.sh, or 'source $(tests/servers.sh start)' first.");

    public static int RequirePort(string name) => int.Parse(Require(name), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A fresh folder under the temp directory, removed by the returned handle.</summary>
    public static TempDirectory NewTempDirectory() => new();
}

public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rotation-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

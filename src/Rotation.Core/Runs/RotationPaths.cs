namespace Rotation.Core.Runs;

/// <summary>Where Rotation keeps its state: $env:ROTATION_STATE_DIR, else a per-user folder.</summary>
public static class RotationPaths
{
    public const string StateDirVariable = "ROTATION_STATE_DIR";
    public const string AuditLogVariable = "ROTATION_AUDIT_LOG";
    public const string JournalUriVariable = "ROTATION_JOURNAL_URI";

    public static string StateDirectory(Func<string, string?> env)
    {
        var explicitDir = env(StateDirVariable);
        if (!string.IsNullOrWhiteSpace(explicitDir))
        {
            return Path.GetFullPath(explicitDir);
        }
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "Rotation");
        }
        var xdg = env("XDG_STATE_HOME");
        var home = env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(string.IsNullOrWhiteSpace(xdg) ? Path.Combine(home, ".local", "state") : xdg, "rotation");
    }

    public static string AuditLogPath(Func<string, string?> env)
    {
        var explicitPath = env(AuditLogVariable);
        return string.IsNullOrWhiteSpace(explicitPath)
            ? Path.Combine(StateDirectory(env), "audit.jsonl")
            : Path.GetFullPath(explicitPath);
    }

    public static string JournalDirectory(Func<string, string?> env) => Path.Combine(StateDirectory(env), "runs");
}

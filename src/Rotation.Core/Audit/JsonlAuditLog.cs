using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Runs;

namespace Rotation.Core.Audit;

/// <summary>
/// The audit log: one JSON line per record (snake_case, as <see cref="RotationAuditRecord"/> names them), appended
/// with a single O_APPEND write and fsynced before Write returns, so concurrent writers in any number of threads
/// and processes never lose or interleave a line. The folder is created 0700 and the file 0600. Any failure throws
/// AuditWriteFailed: a rotation without evidence did not happen.
/// </summary>
public sealed class JsonlAuditLog : IAuditSink
{
    public JsonlAuditLog(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>$ROTATION_AUDIT_LOG when set, else audit.jsonl in the state folder.</summary>
    public static JsonlAuditLog FromEnvironment(Func<string, string?> env) => new(RotationPaths.AuditLogPath(env));

    public string Path { get; }

    public void Write(RotationAuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        byte[] line;
        try
        {
            line = Serialize(record);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw Failed(ex);
        }
        try
        {
            PrivateFiles.AppendDurably(Path, line);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            throw Failed(ex);
        }
    }

    internal static byte[] Serialize(RotationAuditRecord record)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(record, AuditJson.Line);
        // JSON escapes control characters inside strings, so the only newline is the terminator we add.
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    private RotationException Failed(Exception inner) =>
        new(RotationErrorIds.AuditWriteFailed, RotationErrorCategory.WriteError, Path,
            $"Could not write the audit record to '{Path}': {inner.Message} Nothing more was changed after this point; fix the " +
            $"path or its permissions (or set ${RotationPaths.AuditLogVariable}) and resume the run.", inner);
}

internal static class AuditJson
{
    public static readonly JsonSerializerOptions Line = new() { WriteIndented = false };

    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}

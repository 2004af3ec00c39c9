using System.Text;
using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Runs;

namespace Rotation.Core.Audit;

/// <summary>Which audit records to read. Every filter is optional; set ones must all match.</summary>
public sealed class AuditLogFilter
{
    /// <summary>Records at or after this instant.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Records at or before this instant.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Target, with PowerShell wildcards (* ? [a-z]), case-insensitive.</summary>
    public string? Target { get; init; }

    /// <summary>Exact run id.</summary>
    public string? RunId { get; init; }

    /// <summary>Event name, with wildcards ('step.*'), case-insensitive.</summary>
    public string? Event { get; init; }

    private System.Text.RegularExpressions.Regex? _target;
    private System.Text.RegularExpressions.Regex? _event;

    public bool Matches(RotationAuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _target ??= Target is null ? null : Wildcard.Compile(Target);
        _event ??= Event is null ? null : Wildcard.Compile(Event);
        return (Since is null || record.Timestamp >= Since)
            && (Until is null || record.Timestamp <= Until)
            && (RunId is null || string.Equals(record.RunId, RunId, StringComparison.Ordinal))
            && (_target is null || _target.IsMatch(record.Target))
            && (_event is null || _event.IsMatch(record.Event));
    }
}

/// <summary>
/// Reads the audit log written by <see cref="JsonlAuditLog"/>.
/// Malformed lines: a complete line (ending in a newline) that is not a valid record is an error,
/// AuditLogMalformed naming the file and line number, because evidence that silently disappears from a report is
/// worse than a failed report; with <c>skipMalformed</c> such lines are skipped with a warning naming the line.
/// A last line without its newline is a record being written right now (or torn by a crash before its fsync
/// finished, so never acknowledged to its writer): it is always skipped, with a warning.
/// </summary>
public static class AuditLogReader
{
    public static IEnumerable<RotationAuditRecord> Read(string path, AuditLogFilter? filter = null, bool skipMalformed = false, IRotationLog? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        filter ??= new AuditLogFilter();
        log ??= NullRotationLog.Instance;
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            // No log yet means nothing was rotated here yet: an empty result, not an error.
            log.Verbose($"The audit log '{fullPath}' does not exist yet.");
            return [];
        }
        return ReadExisting(fullPath, filter, skipMalformed, log);
    }

    private static IEnumerable<RotationAuditRecord> ReadExisting(string path, AuditLogFilter filter, bool skipMalformed, IRotationLog log)
    {
        byte[] content;
        try
        {
            content = ReadShared(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.AuditLogMalformed, RotationErrorCategory.ReadError, path,
                $"Could not read the audit log '{path}': {ex.Message}", ex);
        }
        var records = new List<RotationAuditRecord>();
        var lineNumber = 0;
        // A log touched by an editor may start with a UTF-8 byte order mark; it is not part of the first record.
        var start = content.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        while (start < content.Length)
        {
            lineNumber++;
            var end = Array.IndexOf(content, (byte)'\n', start);
            if (end < 0)
            {
                log.Warning($"Skipped line {lineNumber} of the audit log '{path}': it has no line end yet (a record being written, or torn by a crash).");
                break;
            }
            var line = content.AsSpan(start, end - start).TrimEnd((byte)'\r');
            start = end + 1;
            if (line.IsEmpty || line.Trim((byte)' ').IsEmpty)
            {
                continue;
            }
            var record = TryParse(line);
            if (record is null)
            {
                if (!skipMalformed)
                {
                    throw new RotationException(RotationErrorIds.AuditLogMalformed, RotationErrorCategory.InvalidData, path,
                        $"Line {lineNumber} of the audit log '{path}' is not a valid audit record. Repair or remove that line, or read with -SkipMalformed.");
                }
                log.Warning($"Skipped line {lineNumber} of the audit log '{path}': not a valid audit record.");
                continue;
            }
            if (filter.Matches(record))
            {
                records.Add(record);
            }
        }
        return records;
    }

    private static RotationAuditRecord? TryParse(ReadOnlySpan<byte> line)
    {
        try
        {
            var record = JsonSerializer.Deserialize<RotationAuditRecord>(line, AuditJson.Line);
            return record is { Event: not null, Target: not null } ? record : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Writers keep appending while we read: share everything, and read what is there now.
    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}

/// <summary>Writes audit records to a file for people and other tools.</summary>
public static class AuditLogExport
{
    /// <summary>
    /// Writes the records as a JSON array (the same snake_case names as the log) or CSV (RFC 4180: a header row,
    /// CRLF line ends, fields with a comma, quote or line break quoted and quotes doubled). Refuses to replace an
    /// existing file unless <paramref name="force"/>. The file is written atomically with mode 0600.
    /// </summary>
    public static AuditExportResult Export(IEnumerable<RotationAuditRecord> records, string destination, AuditExportFormat? format, bool force)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var path = Path.GetFullPath(destination);
        if (!force && File.Exists(path))
        {
            throw new RotationException(RotationErrorIds.AuditExportFileExists, RotationErrorCategory.ResourceExists, path,
                $"The file '{path}' already exists. Choose another path, or use -Force to replace it.");
        }
        var list = records.ToList();
        var chosen = format ?? FormatFor(path);
        var bytes = chosen switch
        {
            AuditExportFormat.Json => JsonSerializer.SerializeToUtf8Bytes(list, AuditJson.Indented),
            AuditExportFormat.Csv => Encoding.UTF8.GetBytes(ToCsv(list)),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        try
        {
            PrivateFiles.WriteAtomic(path, bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.AuditWriteFailed, RotationErrorCategory.WriteError, path,
                $"Could not write the audit export '{path}': {ex.Message}", ex);
        }
        return new AuditExportResult { Path = path, Format = chosen, Count = list.Count };
    }

    /// <summary>Without -Format, a .csv destination gets CSV and anything else JSON.</summary>
    public static AuditExportFormat FormatFor(string destination) =>
        string.Equals(Path.GetExtension(destination), ".csv", StringComparison.OrdinalIgnoreCase) ? AuditExportFormat.Csv : AuditExportFormat.Json;

    public static string ToCsv(IEnumerable<RotationAuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var sb = new StringBuilder();
        sb.Append("timestamp,event,credential_type,target,performed_by,reason,success,downtime_seconds,rollback_required,run_id,step,fingerprint,error\r\n");
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var r in records)
        {
            string?[] fields =
            [
                r.Timestamp.ToString("O", inv), r.Event, r.CredentialType, r.Target, r.PerformedBy, r.Reason.ToString().ToLowerInvariant(),
                r.Success ? "true" : "false", r.DowntimeSeconds?.ToString("R", inv), r.RollbackRequired ? "true" : "false",
                r.RunId, r.Step, r.Fingerprint, r.Error,
            ];
            sb.AppendJoin(',', fields.Select(CsvField)).Append("\r\n");
        }
        return sb.ToString();
    }

    internal static string CsvField(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}

public enum AuditExportFormat
{
    Json,
    Csv,
}

/// <summary>What Export-RotationAuditLog -PassThru returns.</summary>
public sealed class AuditExportResult
{
    public required string Path { get; init; }

    public required AuditExportFormat Format { get; init; }

    /// <summary>How many records were written.</summary>
    public required int Count { get; init; }
}

/// <summary>Builds a filter from cmdlet parameters (PowerShell hands local DateTimes; the log is in UTC offsets).</summary>
public static class AuditFilters
{
    public static AuditLogFilter Create(DateTime? since, DateTime? until, string? target, string? runId, string? eventName) => new()
    {
        Since = since is null ? null : ToOffset(since.Value),
        Until = until is null ? null : ToOffset(until.Value),
        Target = target,
        RunId = runId,
        Event = eventName,
    };

    // An Unspecified kind (Get-Date -Date '2026-11-21') means local time, as everywhere in PowerShell.
    private static DateTimeOffset ToOffset(DateTime value) =>
        value.Kind == DateTimeKind.Utc ? new DateTimeOffset(value) : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Local));
}

using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Rotation.Core.Errors;

namespace Rotation.Core.Runs;

/// <summary>
/// The journal in the state folder: one JSON document per run at &lt;folder&gt;/&lt;runId&gt;.json, replaced
/// atomically (temp file, fsync, rename) so a crash leaves the old or the new document, never a torn one. Folder
/// 0700, files 0600. The lock is a &lt;runId&gt;.lock file held open exclusively (flock on Unix, a sharing lock on
/// Windows): the OS drops it when the holder dies, so a crashed run never stays locked.
/// </summary>
public sealed partial class FileRunJournal : IRunJournal
{
    private readonly IRotationLog _log;

    public FileRunJournal(string directory, IRotationLog? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        _log = log ?? NullRotationLog.Instance;
    }

    public string Directory { get; }

    public void Save(RotationRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var path = RunPath(run.RunId);
        try
        {
            PrivateFiles.WriteAtomic(path, RunJson.Serialize(run));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.JournalWriteFailed, RotationErrorCategory.WriteError, run.RunId,
                $"Could not write the journal of run {run.RunId} to '{path}': {ex.Message} Fix the folder or its permissions " +
                $"(or set ${RotationPaths.StateDirVariable}), then resume the run.", ex);
        }
    }

    public RotationRun Load(string runId)
    {
        var path = RunPath(runId);
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Errors.Errors.NotFound(RotationErrorIds.RunNotFound, runId,
                $"No run '{runId}' in the journal '{Directory}'. List runs with Get-RotationRun (the journal folder comes from ${RotationPaths.StateDirVariable}).", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.JournalCorrupt, RotationErrorCategory.ReadError, runId,
                $"Could not read the journal of run {runId} at '{path}': {ex.Message}", ex);
        }
        return RunJson.Deserialize(content, runId, path);
    }

    /// <summary>All runs, oldest first. A document that cannot be read is skipped with a warning naming it.</summary>
    public IReadOnlyList<RotationRun> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        var runIds = System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Where(id => RunIdPattern().IsMatch(id));
        return RunJson.LoadAll(runIds, Load, _log);
    }

    public IDisposable Lock(string runId)
    {
        var path = Path.Combine(Directory, ValidRunId(runId) + ".lock");
        try
        {
            PrivateFiles.EnsureDirectory(Directory);
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            // The lock file is never deleted: deleting it would let a waiter lock the old inode while a newcomer locks a new one.
            return new FileStream(path, options);
        }
        catch (IOException ex) when (File.Exists(path))
        {
            throw RunLocked(runId, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.JournalWriteFailed, RotationErrorCategory.WriteError, runId,
                $"Could not create the lock file '{path}' for run {runId}: {ex.Message}", ex);
        }
    }

    internal static RotationException RunLocked(string runId, Exception? inner = null) =>
        new(RotationErrorIds.RunLocked, RotationErrorCategory.ResourceBusy, runId,
            $"Run {runId} is being executed by another process right now. Wait for it to finish, then check it with Get-RotationRun -RunId {runId}.", inner);

    private string RunPath(string runId) => Path.Combine(Directory, ValidRunId(runId) + ".json");

    /// <summary>Run ids become file names: refuse anything that could leave the folder.</summary>
    internal static string ValidRunId(string runId) =>
        runId is not null && RunIdPattern().IsMatch(runId)
            ? runId
            : throw Errors.Errors.InvalidArgument(runId ?? "(null)", $"'{runId}' is not a run id (letters, digits, '.', '_' and '-', as in r-20261121T233000Z-1a2b3c4d).");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex RunIdPattern();
}

/// <summary>How a run is written in any journal (file or store): indented JSON with enum names.</summary>
internal static class RunJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static byte[] Serialize(RotationRun run) => JsonSerializer.SerializeToUtf8Bytes(run, Options);

    /// <summary>Loads each run, oldest first; one that cannot be read is skipped with a warning naming it.</summary>
    public static IReadOnlyList<RotationRun> LoadAll(IEnumerable<string> runIds, Func<string, RotationRun> load, IRotationLog log)
    {
        var runs = new List<RotationRun>();
        foreach (var runId in runIds)
        {
            try
            {
                runs.Add(load(runId));
            }
            catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.JournalCorrupt or RotationErrorIds.RunNotFound)
            {
                log.Warning(ex.Message);
            }
        }
        return [.. runs.OrderBy(r => r.CreatedAt).ThenBy(r => r.RunId, StringComparer.Ordinal)];
    }

    public static RotationRun Deserialize(ReadOnlySpan<byte> content, string runId, string where)
    {
        RotationRun? run;
        try
        {
            run = JsonSerializer.Deserialize<RotationRun>(content, Options);
        }
        catch (JsonException ex)
        {
            throw Corrupt(runId, where, $"it is not a valid run document ({ex.Message})", ex);
        }
        if (run is null || !string.Equals(run.RunId, runId, StringComparison.Ordinal))
        {
            throw Corrupt(runId, where, "it holds a different run", null);
        }
        return run;
    }

    private static RotationException Corrupt(string runId, string where, string why, Exception? inner) =>
        new(RotationErrorIds.JournalCorrupt, RotationErrorCategory.InvalidData, runId,
            $"The journal of run {runId} at '{where}' cannot be used: {why}. Restore it from a backup, or remove it and check the target by hand.", inner);
}

using System.Security.Cryptography;
using System.Text;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>
/// The embedded default store, <c>file://&lt;path&gt;#&lt;name&gt;</c>: one JSON document per file holding many named
/// secrets, each with its versions (id, value, stages, created, run id, client request token).
///
/// Durability and concurrency:
/// - Every write replaces the document atomically (a temp file in the same folder, fsync, rename), created mode
///   0600 in a folder created 0700, so a reader never sees half a document and other users never see any.
/// - Read-modify-write happens under an exclusive lock on <c>&lt;path&gt;.lock</c> (flock on Unix, a share-none
///   handle on Windows), so writers in different processes serialise; the loser of a race then sees the winner's
///   Pending and refuses with RotationInProgress. The document's revision is checked again right before the
///   rename, so a writer that ignored the lock (a hand edit) makes this write fail with StoreWriteConflict rather
///   than be overwritten.
/// - Reads take no lock: the rename makes every read see one whole revision.
/// Versions: Current, Pending and Previous, plus at most <see cref="MaxUnlabelledVersions"/> older unlabelled
/// versions (kept so a retried write with an old ClientRequestToken still finds its version).
/// </summary>
public sealed class FileSecretStore : ISecretStore
{
    /// <summary>Unlabelled versions kept per secret beyond Current, Pending and Previous.</summary>
    public const int MaxUnlabelledVersions = 5;

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(15);

    private readonly StoreContext _context;
    private readonly string _path;
    private readonly string _name;

    public FileSecretStore(SecretStoreUri uri, StoreContext context)
    {
        if (uri.Scheme != SecretStoreUri.File)
        {
            throw new ArgumentException($"Not a file store URI: {uri}", nameof(uri));
        }
        Uri = uri;
        _context = context;
        _path = Path.GetFullPath(uri.Authority);
        _name = uri.Path;
    }

    public SecretStoreUri Uri { get; }

    private string Target => Uri.Original;

    public Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
    {
        var secret = ReadSecret() ?? throw NotFound();
        var version = secret.Versions.FirstOrDefault(v => v.Stages.Contains(stage)) ?? throw StageNotFound(stage);
        return Task.FromResult(ToStored(version));
    }

    public Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var secret = ReadSecret();
        return Task.FromResult(new SecretDescription
        {
            Uri = Uri,
            Exists = secret is not null,
            Versions = secret?.Versions.Select(v => new SecretVersionInfo
            {
                VersionId = v.Id,
                Stages = [.. v.Stages],
                CreatedAt = v.Created,
                RunId = v.RunId,
                Fingerprint = v.ToValue().Fingerprint,
            }).ToList() ?? [],
        });
    }

    public Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        if (stage == SecretStage.Previous)
        {
            throw StoreErrors.PreviousNotWritable(Target);
        }
        return MutateAsync(doc =>
        {
            if (!doc.Secrets.TryGetValue(_name, out var secret))
            {
                secret = new FileStoreSecret();
                doc.Secrets[_name] = secret;
            }
            var versions = secret.Versions;
            if (options.ClientRequestToken is { } token && versions.FirstOrDefault(v => v.ClientRequestToken == token) is { } earlier)
            {
                // A retried write: return what the first attempt made, never a second version (AWS semantics).
                if (!earlier.ToValue().ValueEquals(value))
                {
                    throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceExists, Target,
                        $"A version of '{Target}' was already written with this ClientRequestToken but holds a different value. A retry must send the same value; use a new token for a new value.");
                }
                return (ToStored(earlier), false);
            }
            var pending = versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
            if (pending is not null)
            {
                var sameRun = stage == SecretStage.Pending && options.RunId is not null && pending.RunId == options.RunId;
                if (!sameRun)
                {
                    throw StoreErrors.InProgress(Target, pending.RunId);
                }
                RemoveStage(versions, SecretStage.Pending);
            }
            var created = new FileStoreVersion
            {
                Id = options.ClientRequestToken ?? Guid.NewGuid().ToString(),
                Value = FileStoreVersion.FromValue(value),
                Created = _context.Clock.GetUtcNow(),
                RunId = options.RunId,
                ClientRequestToken = options.ClientRequestToken,
                Description = options.Description,
            };
            if (stage == SecretStage.Current)
            {
                Shift(versions, created);
            }
            else
            {
                created.Stages.Add(SecretStage.Pending);
            }
            versions.Add(created);
            Prune(versions);
            return (ToStored(created), true);
        }, cancellationToken);
    }

    public Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default) =>
        MutateAsync(doc =>
        {
            var versions = Existing(doc).Versions;
            var pending = versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
            var current = versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Current));
            if (pending is null)
            {
                if (expectedVersionId is not null && current?.Id == expectedVersionId)
                {
                    return (ToStored(current), false);
                }
                throw StoreErrors.NoPending(Target);
            }
            if (expectedVersionId is not null && pending.Id != expectedVersionId)
            {
                throw StoreErrors.PendingMismatch(Target, expectedVersionId);
            }
            pending.Stages.Remove(SecretStage.Pending);
            Shift(versions, pending);
            Prune(versions);
            return (ToStored(pending), true);
        }, cancellationToken);

    public Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default) =>
        MutateAsync(doc =>
        {
            var versions = Existing(doc).Versions;
            var previous = versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Previous)) ?? throw StoreErrors.NoPrevious(Target);
            var current = versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Current));
            previous.Stages.Remove(SecretStage.Previous);
            previous.Stages.Add(SecretStage.Current);
            if (current is not null)
            {
                current.Stages.Remove(SecretStage.Current);
                current.Stages.Add(SecretStage.Previous);
            }
            return (ToStored(previous), true);
        }, cancellationToken);

    public Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default) =>
        MutateAsync(doc =>
        {
            if (!doc.Secrets.TryGetValue(_name, out var secret))
            {
                return (0, false);
            }
            var pending = secret.Versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
            if (pending is null || (runId is not null && pending.RunId != runId))
            {
                return (0, false);
            }
            pending.Stages.Remove(SecretStage.Pending);
            if (pending.Stages.Count == 0)
            {
                secret.Versions.Remove(pending);
            }
            return (0, true);
        }, cancellationToken);

    /// <summary>The target becomes Current; the old Current becomes Previous; the old Previous keeps no label.</summary>
    private static void Shift(List<FileStoreVersion> versions, FileStoreVersion newCurrent)
    {
        RemoveStage(versions, SecretStage.Previous);
        foreach (var v in versions.Where(v => v.Stages.Contains(SecretStage.Current)))
        {
            v.Stages.Remove(SecretStage.Current);
            v.Stages.Add(SecretStage.Previous);
        }
        newCurrent.Stages.Add(SecretStage.Current);
    }

    private static void RemoveStage(List<FileStoreVersion> versions, SecretStage stage)
    {
        foreach (var v in versions)
        {
            v.Stages.Remove(stage);
        }
    }

    private static void Prune(List<FileStoreVersion> versions)
    {
        var unlabelled = versions.Where(v => v.Stages.Count == 0).ToList();
        foreach (var old in unlabelled.Take(Math.Max(0, unlabelled.Count - MaxUnlabelledVersions)))
        {
            versions.Remove(old);
        }
    }

    private FileStoreSecret Existing(FileStoreDocument doc) => doc.Secrets.TryGetValue(_name, out var s) ? s : throw NotFound();

    private StoredSecret ToStored(FileStoreVersion v) => new()
    {
        Uri = Uri,
        VersionId = v.Id,
        Stages = [.. v.Stages],
        Value = v.ToValue(),
        CreatedAt = v.Created,
        RunId = v.RunId,
    };

    private FileStoreSecret? ReadSecret()
    {
        var doc = ReadDocument();
        return doc is not null && doc.Secrets.TryGetValue(_name, out var s) ? s : null;
    }

    /// <summary>The document on disk, or null when the file does not exist yet.</summary>
    private FileStoreDocument? ReadDocument()
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(_path, Encoding.UTF8);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.StoreUnreachable, RotationErrorCategory.ReadError, Target,
                $"The secret store file '{_path}' for '{Target}' cannot be read ({ex.GetType().Name}). Check its permissions.", ex);
        }
        return FileStoreDocument.Parse(text, Target);
    }

    private async Task<T> MutateAsync<T>(Func<FileStoreDocument, (T Result, bool Changed)> change, CancellationToken cancellationToken)
    {
        EnsureDirectory();
        using var lockHandle = await AcquireLockAsync(cancellationToken).ConfigureAwait(false);
        var doc = ReadDocument() ?? new FileStoreDocument();
        var revision = doc.Revision;
        var (result, changed) = change(doc);
        if (changed)
        {
            doc.Revision = revision + 1;
            var onDisk = ReadDocument()?.Revision ?? 0;
            if (onDisk != revision)
            {
                throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                    $"The secret store file '{_path}' changed while '{Target}' was being written (revision {revision} became {onDisk}) by a writer that did not take its lock. Nothing was written; retry.");
            }
            WriteAtomically(doc.Serialize());
        }
        return result;
    }

    private void EnsureDirectory()
    {
        var dir = Path.GetDirectoryName(_path)!;
        try
        {
            if (!Directory.Exists(dir))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(dir);
                }
                else
                {
                    Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw NotWritable(ex);
        }
    }

    private async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        var lockPath = _path + ".lock";
        var started = _context.Clock.GetTimestamp();
        var delay = 5;
        while (true)
        {
            try
            {
                // FileShare.None takes flock(LOCK_EX) on Unix: exclusive across processes and across handles in one process.
                return new FileStream(lockPath, PrivateFileOptions(FileMode.OpenOrCreate, FileShare.None));
            }
            catch (UnauthorizedAccessException ex)
            {
                throw NotWritable(ex);
            }
            catch (IOException ex) when (System.IO.File.Exists(lockPath))
            {
                if (_context.Clock.GetElapsedTime(started) > LockTimeout)
                {
                    throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                        $"Another process has held the lock '{lockPath}' for more than {LockTimeout.TotalSeconds:0} s while '{Target}' waited to be written. Retry when it has finished.", ex);
                }
                await Task.Delay(delay + RandomNumberGenerator.GetInt32(delay), cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 100);
            }
            catch (IOException ex)
            {
                throw NotWritable(ex);
            }
        }
    }

    private void WriteAtomically(string json)
    {
        var dir = Path.GetDirectoryName(_path)!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, PrivateFileOptions(FileMode.CreateNew, FileShare.None)))
            {
                var bytes = new UTF8Encoding(false).GetBytes(json);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            System.IO.File.Move(temp, _path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw NotWritable(ex);
        }
    }

    private static FileStreamOptions PrivateFileOptions(FileMode mode, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.ReadWrite, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }

    private static void TryDelete(string path)
    {
        try
        {
            System.IO.File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The temp file is harmless; the write already failed with the error that matters.
        }
    }

    private RotationException NotWritable(Exception inner) =>
        new(RotationErrorIds.StorePathNotWritable, RotationErrorCategory.WriteError, Target,
            $"The secret store file '{_path}' for '{Target}' cannot be written ({inner.GetType().Name}). Nothing was changed; check that its folder exists or can be created and that you may write there.",
            inner);

    private RotationException NotFound() =>
        Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Target,
            $"The secret '{_name}' does not exist in '{_path}'. Write it first with Set-RotationSecret -Uri '{Target}', or check the path and name.");

    private RotationException StageNotFound(SecretStage stage) =>
        Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, Target,
            $"The secret '{Target}' has no {stage} version. Ask for another stage with -Stage, or write one with Set-RotationSecret.");
}

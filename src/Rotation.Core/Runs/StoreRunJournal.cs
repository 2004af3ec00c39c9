using System.Text;
using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Runs;

/// <summary>
/// The journal at a store URI ($ROTATION_JOURNAL_URI, DESIGN.md section 7), so an ephemeral pipeline agent can
/// resume or undo a run another agent started. Given a base URI such as <c>aws-sm://eu-west-1/rotation/journal</c>
/// or <c>file:///shared/journal.json#journal</c>:
/// - each run is the Current value of the secret <c>&lt;base&gt;/&lt;runId&gt;</c> (a JSON run document; never a
///   value, as in the file journal), replaced on every save;
/// - the base secret itself is the index of run ids (stores cannot list), updated after a run's first save and read
///   back to confirm, so two agents starting runs at once both end up listed;
/// - the lock is a Pending lease on <c>&lt;base&gt;/&lt;runId&gt;.lock</c>, which the store's optimistic concurrency
///   gives to exactly one holder. The lease carries an expiry that the holder renews while it runs, so the lock of
///   an agent that died lapses after <see cref="LeaseDuration"/> and another agent can take the run over.
/// </summary>
public sealed class StoreRunJournal : IRunJournal
{
    private readonly SecretStoreRegistry _stores;
    private readonly StoreContext _context;
    private readonly IRotationLog _log;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _indexed = new(StringComparer.Ordinal);

    public StoreRunJournal(string baseUri, SecretStoreRegistry stores, StoreContext context, IRotationLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(context);
        BaseUri = SecretStoreUri.Parse(baseUri);
        if (BaseUri.Field is not null)
        {
            throw Errors.Errors.InvalidArgument(baseUri, $"The journal URI '{baseUri}' names a field ('#{BaseUri.Field}'); give the secret that holds the journal, without a field.");
        }
        _stores = stores;
        _context = context;
        _log = log ?? NullRotationLog.Instance;
    }

    public SecretStoreUri BaseUri { get; }

    /// <summary>How long a lock lasts without renewal; the holder renews it every third of this.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The index is held only for one read and one write; a dead holder blocks others this long at most.</summary>
    private static readonly TimeSpan IndexLeaseDuration = TimeSpan.FromSeconds(30);

    public void Save(RotationRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var store = Open(Child(FileRunJournal.ValidRunId(run.RunId)));
        var isNew = !_indexed.ContainsKey(run.RunId) && !Sync(() => store.DescribeAsync()).Exists;
        Write(run.RunId, () => Sync(() => store.PutAsync(SecretValue.FromText(Encoding.UTF8.GetString(RunJson.Serialize(run))), SecretStage.Current,
            new SecretWriteOptions { Description = $"Rotation run journal: {run.RunId}" })));
        if (isNew)
        {
            AddToIndex(run.RunId);
        }
        _indexed[run.RunId] = true;
    }

    public RotationRun Load(string runId)
    {
        var uri = Child(FileRunJournal.ValidRunId(runId));
        StoredSecret stored;
        try
        {
            stored = Sync(() => Open(uri).GetAsync(SecretStage.Current));
        }
        catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.SecretNotFound or RotationErrorIds.SecretStageNotFound)
        {
            throw Errors.Errors.NotFound(RotationErrorIds.RunNotFound, runId,
                $"No run '{runId}' in the journal at '{BaseUri}'. List runs with Get-RotationRun (the journal comes from ${RotationPaths.JournalUriVariable}).", ex);
        }
        return RunJson.Deserialize(Encoding.UTF8.GetBytes(stored.Value.ToStoreText()), runId, uri);
    }

    /// <summary>Runs in the index, oldest first; an indexed run that cannot be read is skipped with a warning.</summary>
    public IReadOnlyList<RotationRun> List()
    {
        return RunJson.LoadAll(ReadIndex(), Load, _log);
    }

    public IDisposable Lock(string runId)
    {
        var lease = new StoreLease(this, Open(Child(FileRunJournal.ValidRunId(runId) + ".lock")), runId, $"run {runId}", LeaseDuration);
        lease.Acquire();
        return lease;
    }

    // Stores offer no compare-and-swap on Current, so the index is changed only under its own short lease.
    private void AddToIndex(string runId)
    {
        var index = Open(BaseUri);
        var deadline = _context.Clock.GetUtcNow() + IndexLeaseDuration;
        while (true)
        {
            StoreLease lease;
            try
            {
                lease = new StoreLease(this, Open(Child("_index.lock")), runId, "the journal index", IndexLeaseDuration);
                lease.Acquire();
            }
            catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.RunLocked)
            {
                if (_context.Clock.GetUtcNow() > deadline)
                {
                    throw new RotationException(RotationErrorIds.JournalWriteFailed, RotationErrorCategory.ResourceBusy, runId,
                        $"Could not add run {runId} to the journal index at '{BaseUri}': another agent has held its lock for over {IndexLeaseDuration}. The run itself is saved; retry.", ex);
                }
                Thread.Sleep(Random.Shared.Next(10, 60));
                continue;
            }
            using (lease)
            {
                var ids = ReadIndex();
                if (!ids.Contains(runId))
                {
                    var updated = ids.Append(runId).ToList();
                    Write(runId, () => Sync(() => index.PutAsync(SecretValue.FromText(JsonSerializer.Serialize(updated)), SecretStage.Current,
                        new SecretWriteOptions { Description = "Rotation run journal index" })));
                }
                return;
            }
        }
    }

    private List<string> ReadIndex()
    {
        StoredSecret stored;
        try
        {
            stored = Sync(() => Open(BaseUri).GetAsync(SecretStage.Current));
        }
        catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.SecretNotFound or RotationErrorIds.SecretStageNotFound)
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<List<string>>(stored.Value.ToStoreText()) ?? [];
        }
        catch (JsonException ex)
        {
            throw new RotationException(RotationErrorIds.JournalCorrupt, RotationErrorCategory.InvalidData, BaseUri.Original,
                $"The journal index at '{BaseUri}' is not a JSON list of run ids. Repair it (each run is still at '{BaseUri}/<runId>').", ex);
        }
    }

    private ISecretStore Open(string uri) => _stores.Open(uri, _context);

    private ISecretStore Open(SecretStoreUri uri) => _stores.Open(uri, _context);

    private string Child(string name) => BaseUri.Scheme == SecretStoreUri.File
        ? $"file://{BaseUri.Authority}#{BaseUri.Path}/{name}"
        : $"{BaseUri.Scheme}://{BaseUri.Authority}/{BaseUri.Path}/{name}";

    private static T Write<T>(string runId, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (RotationException ex) when (ex.ErrorId is not RotationErrorIds.JournalWriteFailed)
        {
            throw new RotationException(RotationErrorIds.JournalWriteFailed, RotationErrorCategory.WriteError, runId,
                $"Could not write the journal of run {runId}: {ex.Message}", ex);
        }
    }

    // The journal contract is synchronous; run the store's async calls off any synchronization context.
    private static T Sync<T>(Func<Task<T>> call) => Task.Run(call).GetAwaiter().GetResult();

    private static void Sync(Func<Task> call) => Task.Run(call).GetAwaiter().GetResult();

    /// <summary>A renewed Pending lease on a lock secret (a run's, or the index's); disposing it cancels the lease.</summary>
    private sealed class StoreLease(StoreRunJournal journal, ISecretStore store, string runId, string label, TimeSpan duration) : IDisposable
    {
        private readonly string _holder = "lock-" + Guid.NewGuid().ToString("N");
        private readonly object _gate = new();
        private Timer? _renewal;
        private bool _disposed;

        public void Acquire()
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Put();
                    break;
                }
                catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.RotationInProgress or RotationErrorIds.StoreWriteConflict)
                {
                    var held = TryGetPending();
                    if (attempt >= 3 || (held is not null && ExpiresAt(held.Value) > journal._context.Clock.GetUtcNow()))
                    {
                        throw FileRunJournal.RunLocked(runId, ex);
                    }
                    if (held is not null)
                    {
                        // Its holder stopped renewing (the agent died): cancel exactly that lease, then race for it.
                        journal._log.Warning($"Taking over the lock of {label}: its holder stopped renewing it (the agent probably died).");
                        Sync(() => store.CancelPendingAsync(held.RunId));
                    }
                }
            }
            var period = duration / 3;
            _renewal = new Timer(_ => Renew(), null, period, period);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                _disposed = true;
                _renewal?.Dispose();
            }
            try
            {
                Sync(() => store.CancelPendingAsync(_holder));
            }
            catch (RotationException ex)
            {
                journal._log.Warning($"Could not release the lock of {label} at '{store.Uri}': {ex.Message} It lapses by itself after {duration}.");
            }
        }

        private void Renew()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                try
                {
                    Put();
                }
                catch (RotationException ex)
                {
                    journal._log.Warning($"Could not renew the lock of {label}: {ex.Message}");
                }
            }
        }

        private void Put()
        {
            var expires = journal._context.Clock.GetUtcNow() + duration;
            var lease = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["holder"] = _holder,
                ["host"] = Environment.MachineName,
                ["expiresAt"] = expires.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            });
            Sync(() => store.PutAsync(SecretValue.FromText(lease), SecretStage.Pending, new SecretWriteOptions { RunId = _holder, Description = $"Lock of {label}" }));
        }

        private StoredSecret? TryGetPending()
        {
            try
            {
                return Sync(() => store.GetAsync(SecretStage.Pending));
            }
            catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.SecretNotFound or RotationErrorIds.SecretStageNotFound)
            {
                return null;
            }
        }

        private static DateTimeOffset ExpiresAt(SecretValue lease)
        {
            try
            {
                using var doc = JsonDocument.Parse(lease.ToStoreText());
                return doc.RootElement.GetProperty("expiresAt").GetDateTimeOffset();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                // Not a lease we wrote: treat it as lapsed rather than locking the run forever.
                return DateTimeOffset.MinValue;
            }
        }
    }
}

using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores.Staging;

/// <summary>A version as the backend lists it (no value).</summary>
internal sealed record BackendVersion(string Id, DateTimeOffset? CreatedAt, bool Enabled);

/// <summary>What a backend read: whether the secret exists, its ledger, its versions, and the backend's
/// concurrency stamp for the ledger (an etag, a metadata version, a sequence number).</summary>
internal sealed class LedgerSnapshot
{
    public static LedgerSnapshot Missing { get; } = new() { Exists = false, Ledger = StageLedger.Empty, Versions = [] };

    public required bool Exists { get; init; }
    public required StageLedger Ledger { get; init; }
    public required IReadOnlyList<BackendVersion> Versions { get; init; }
    public object? Stamp { get; init; }
}

/// <summary>
/// The store contract of <see cref="ISecretStore"/> for backends that keep versions but no stage labels of their own
/// (Google Secret Manager, Azure Key Vault, Vault KV v2). The labels live in a <see cref="StageLedger"/>; each backend
/// supplies how it reads and writes versions and the ledger under its own optimistic concurrency.
/// Versions that lose every label are retired (disabled or soft-deleted), never destroyed unless the backend is asked to.
/// </summary>
internal abstract class LedgerSecretStore : ISecretStore
{
    protected LedgerSecretStore(SecretStoreUri uri, StoreContext context)
    {
        Uri = uri;
        Context = context;
    }

    public SecretStoreUri Uri { get; }

    protected StoreContext Context { get; }

    protected string Target => Uri.Original;

    /// <summary>Reads the ledger and the version list. A missing secret is <see cref="LedgerSnapshot.Missing"/>.</summary>
    protected abstract Task<LedgerSnapshot> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds a version holding <paramref name="value"/> and records the ledger <paramref name="ledgerFor"/> gives for
    /// the new version id, creating the secret when missing. Must fail with StoreWriteConflict (leaving no labelled
    /// version behind) when another writer changed the ledger since <paramref name="before"/> was read.
    /// </summary>
    protected abstract Task<string> CommitVersionAsync(SecretValue value, LedgerSnapshot before, Func<string, StageLedger> ledgerFor, CancellationToken cancellationToken);

    /// <summary>Replaces the ledger, failing with StoreWriteConflict when it changed since <paramref name="before"/>.</summary>
    protected abstract Task CommitLedgerAsync(LedgerSnapshot before, StageLedger after, CancellationToken cancellationToken);

    protected abstract Task<SecretValue> ReadValueAsync(string versionId, CancellationToken cancellationToken);

    /// <summary>Takes an unlabelled version out of use (disable, soft delete). Best effort: labels are already right.</summary>
    protected abstract Task RetireAsync(string versionId, CancellationToken cancellationToken);

    /// <summary>Brings a retired version back into use (enable, undelete) before a label points at it again.</summary>
    protected abstract Task ReviveAsync(string versionId, CancellationToken cancellationToken);

    public async Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
    {
        var snap = await ReadExistingAsync(cancellationToken).ConfigureAwait(false);
        var versionId = snap.Ledger.VersionOf(stage) ?? throw StageNotFound(stage);
        return await LoadAsync(snap.Ledger, versionId, snap, cancellationToken).ConfigureAwait(false);
    }

    public async Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var snap = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return new SecretDescription
        {
            Uri = Uri,
            Exists = snap.Exists,
            Versions = snap.Versions.Select(v => new SecretVersionInfo
            {
                VersionId = v.Id,
                Stages = snap.Ledger.StagesOf(v.Id),
                CreatedAt = v.CreatedAt,
                RunId = snap.Ledger.RunOfVersion(v.Id),
            }).ToList(),
        };
    }

    public async Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        if (stage == SecretStage.Previous)
        {
            throw StoreErrors.PreviousNotWritable(Target);
        }
        var snap = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var ledger = snap.Ledger;
        if (options.ClientRequestToken is { } token && ledger.Token == token && ledger.TokenVersion is { } done
            && snap.Versions.Any(v => v.Id == done))
        {
            // A retried write: the version exists already, so return it and create nothing.
            return await LoadAsync(ledger, done, snap, cancellationToken).ConfigureAwait(false);
        }
        // The same run replaces its own Pending; a Pending written without a run id belongs to no one who could replace it.
        if (ledger.Pending is not null && (stage == SecretStage.Current || ledger.PendingRunId is null || ledger.PendingRunId != options.RunId))
        {
            throw StoreErrors.InProgress(Target, ledger.PendingRunId);
        }
        StageLedger LedgerFor(string id) => stage == SecretStage.Pending
            ? ledger.WithPending(id, options.RunId, options.ClientRequestToken)
            : ledger.WithCurrent(id, options.RunId, options.ClientRequestToken);
        var versionId = await CommitVersionAsync(value, snap, LedgerFor, cancellationToken).ConfigureAwait(false);
        var after = LedgerFor(versionId);
        await RetireDroppedAsync(ledger, after, cancellationToken).ConfigureAwait(false);
        return new StoredSecret
        {
            Uri = Uri,
            VersionId = versionId,
            Stages = after.StagesOf(versionId),
            Value = value,
            RunId = options.RunId,
            CreatedAt = Context.Clock.GetUtcNow(),
        };
    }

    public async Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default)
    {
        var snap = await ReadExistingAsync(cancellationToken).ConfigureAwait(false);
        var ledger = snap.Ledger;
        if (ledger.Pending is null)
        {
            if (expectedVersionId is not null && ledger.Current == expectedVersionId)
            {
                return await LoadAsync(ledger, expectedVersionId, snap, cancellationToken).ConfigureAwait(false);
            }
            throw StoreErrors.NoPending(Target);
        }
        if (expectedVersionId is not null && ledger.Pending != expectedVersionId)
        {
            throw StoreErrors.PendingMismatch(Target, expectedVersionId);
        }
        var after = ledger.Completed();
        await CommitLedgerAsync(snap, after, cancellationToken).ConfigureAwait(false);
        await RetireDroppedAsync(ledger, after, cancellationToken).ConfigureAwait(false);
        return await LoadAsync(after, after.Current!, snap, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default)
    {
        var snap = await ReadExistingAsync(cancellationToken).ConfigureAwait(false);
        var ledger = snap.Ledger;
        if (ledger.Previous is null)
        {
            throw StoreErrors.NoPrevious(Target);
        }
        if (snap.Versions.FirstOrDefault(v => v.Id == ledger.Previous) is { Enabled: false })
        {
            // Someone retired it by hand (disabled, soft-deleted); going back to it needs it readable again.
            await ReviveAsync(ledger.Previous, cancellationToken).ConfigureAwait(false);
        }
        var after = ledger.Undone();
        await CommitLedgerAsync(snap, after, cancellationToken).ConfigureAwait(false);
        return await LoadAsync(after, after.Current!, snap, cancellationToken).ConfigureAwait(false);
    }

    public async Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default)
    {
        var snap = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var ledger = snap.Ledger;
        if (!snap.Exists || ledger.Pending is null || (runId is not null && ledger.PendingRunId != runId))
        {
            return;
        }
        var after = ledger.WithoutPending();
        await CommitLedgerAsync(snap, after, cancellationToken).ConfigureAwait(false);
        await RetireDroppedAsync(ledger, after, cancellationToken).ConfigureAwait(false);
    }

    private async Task<LedgerSnapshot> ReadExistingAsync(CancellationToken cancellationToken)
    {
        var snap = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return snap.Exists ? snap : throw SecretMissing();
    }

    private async Task<StoredSecret> LoadAsync(StageLedger ledger, string versionId, LedgerSnapshot snap, CancellationToken cancellationToken)
    {
        var value = await ReadValueAsync(versionId, cancellationToken).ConfigureAwait(false);
        return new StoredSecret
        {
            Uri = Uri,
            VersionId = versionId,
            Stages = ledger.StagesOf(versionId),
            Value = value,
            RunId = ledger.RunOfVersion(versionId),
            CreatedAt = snap.Versions.FirstOrDefault(v => v.Id == versionId)?.CreatedAt,
        };
    }

    private async Task RetireDroppedAsync(StageLedger before, StageLedger after, CancellationToken cancellationToken)
    {
        var kept = after.Labelled().ToHashSet(StringComparer.Ordinal);
        foreach (var dropped in before.Labelled().Where(v => !kept.Contains(v)))
        {
            try
            {
                await RetireAsync(dropped, cancellationToken).ConfigureAwait(false);
            }
            catch (RotationException)
            {
                // The labels already moved; an unlabelled version left enabled is harmless and retired next time.
            }
        }
    }

    protected RotationException SecretMissing(Exception? inner = null) =>
        Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Target,
            $"The secret '{Target}' does not exist. Check the name, or write it first with Set-RotationSecret.", inner);

    private RotationException StageNotFound(SecretStage stage) =>
        Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, Target,
            $"'{Target}' has no {stage} version. Read another stage, or write one with Set-RotationSecret -Stage {stage}.");

    protected RotationException Conflict(string detail, Exception? inner = null) =>
        new(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
            $"Another writer changed '{Target}' at the same time ({detail}); this write was not applied. Read the secret again and retry.", inner);
}

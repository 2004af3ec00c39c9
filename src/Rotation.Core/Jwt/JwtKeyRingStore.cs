using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Jwt;

/// <summary>
/// Reads and writes a ring through any ISecretStore. A write is a compare-and-swap built from the store contract:
/// put the new document as Pending (the store's lease: no other writer can put Pending or Current meanwhile),
/// check that Current is still the version the change was computed from, then Complete. A changed Current cancels
/// the pending write and refuses with StoreWriteConflict, so of two concurrent updates exactly one wins and the
/// other leaves the ring as the winner wrote it. The previous ring stays in the store as Previous.
/// </summary>
internal sealed class JwtKeyRingStore(ISecretStore store, TimeProvider clock)
{
    /// <summary>Run ids of ring updates carry this prefix, so a lease left by a crashed update can be recognised.</summary>
    public const string RunIdPrefix = "jwt-ring-";

    /// <summary>A ring update takes seconds; a lease of ours older than this was left by a crashed process.</summary>
    public static readonly TimeSpan StaleLease = TimeSpan.FromMinutes(5);

    public string Uri => store.Uri.Original;

    public async Task<JwtKeyRing> LoadAsync(CancellationToken cancellationToken)
    {
        StoredSecret current;
        try
        {
            current = await store.GetAsync(SecretStage.Current, cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.SecretNotFound or RotationErrorIds.SecretStageNotFound)
        {
            return new JwtKeyRing { Uri = Uri };
        }
        return JwtKeyRingSerializer.Deserialize(JwtKeyRingSerializer.DocumentText(current.Value), Uri, current.VersionId);
    }

    public async Task<JwtKeyRing> SaveAsync(JwtKeyRing ring, string description, CancellationToken cancellationToken)
    {
        JwtKeyRingRules.Check(ring, Uri);
        var now = clock.GetUtcNow();
        var text = JwtKeyRingSerializer.Serialize(ring, now);
        var runId = RunIdPrefix + Guid.NewGuid().ToString("N");
        var value = SecretValue.FromText(text);
        var options = new SecretWriteOptions { RunId = runId, Description = description };
        StoredSecret? pending = null;
        try
        {
            pending = await store.PutAsync(value, SecretStage.Pending, options, cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.RotationInProgress)
        {
            if (!await ReleaseStaleLeaseAsync(cancellationToken).ConfigureAwait(false))
            {
                throw;
            }
        }
        pending ??= await store.PutAsync(value, SecretStage.Pending, options, cancellationToken).ConfigureAwait(false);
        try
        {
            var description2 = await store.DescribeAsync(cancellationToken).ConfigureAwait(false);
            var current = description2.Versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Current))?.VersionId;
            if (!string.Equals(current, ring.VersionId, StringComparison.Ordinal))
            {
                throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Uri,
                    $"The key ring '{Uri}' changed while this update was prepared (read version {ring.VersionId ?? "none"}, now {current ?? "none"}). Nothing was written; run the command again against the new ring.");
            }
            var completed = await store.CompleteAsync(pending.VersionId, cancellationToken).ConfigureAwait(false);
            return JwtKeyRingSerializer.Deserialize(text, Uri, completed.VersionId);
        }
        catch
        {
            await store.CancelPendingAsync(runId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<bool> ReleaseStaleLeaseAsync(CancellationToken cancellationToken)
    {
        var d = await store.DescribeAsync(cancellationToken).ConfigureAwait(false);
        var pending = d.Versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
        if (pending?.RunId is not { } holder || !holder.StartsWith(RunIdPrefix, StringComparison.Ordinal) ||
            pending.CreatedAt is not { } created || clock.GetUtcNow() - created < StaleLease)
        {
            return false;
        }
        await store.CancelPendingAsync(holder, cancellationToken).ConfigureAwait(false);
        return true;
    }
}

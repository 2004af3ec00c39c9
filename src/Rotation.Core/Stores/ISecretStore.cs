using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>
/// The contract every backend keeps (DESIGN.md section 2), checked by one shared contract test suite.
///
/// Stages: at most one version carries each of Current, Pending, Previous.
/// - Put(Pending): creates the secret if missing. Refuses with RotationInProgress when a Pending version held by
///   another run exists. With the same ClientRequestToken as an earlier write, returns that version and creates
///   nothing. A Pending held by the same run is replaced.
/// - Put(Current): the old Current becomes Previous. Refuses with RotationInProgress while any run holds Pending.
/// - Complete: Pending becomes Current, the old Current becomes Previous. With no Pending and expectedVersionId
///   already Current, returns it (idempotent retry); with no Pending otherwise: NoPendingVersion.
/// - Undo: Previous becomes Current and the old Current becomes Previous (the Secrets Manager swap; undoing twice
///   restores the original). No Previous: NoPreviousVersion.
/// - CancelPending: removes the Pending label (and the version, where the backend can), releasing the lease.
///   Idempotent. With a runId, only a lease held by that run is cancelled.
/// Concurrency: writes use the backend's optimistic concurrency; of two concurrent writers exactly one wins and the
/// other gets StoreWriteConflict or RotationInProgress. Errors are RotationException with the ids in
/// RotationErrorIds (SecretNotFound, SecretStageNotFound, StoreUnreachable, StoreAccessDenied, ...). No error message
/// ever contains a value.
/// </summary>
public interface ISecretStore
{
    SecretStoreUri Uri { get; }

    Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default);

    Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default);

    Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default);

    Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default);

    Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default);

    Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default);
}

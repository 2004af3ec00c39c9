using Rotation.Core.Errors;

namespace Rotation.Core.Stores;

/// <summary>
/// The staging errors every backend raises alike (ISecretStore's contract), so messages and ids read the same
/// whichever store is behind a URI.
/// </summary>
public static class StoreErrors
{
    /// <summary>A Pending version held by another run (or written without a run id) is a lease.</summary>
    public static RotationException InProgress(string target, string? holderRunId) => holderRunId is not null
        ? Errors.Errors.InProgress(target, holderRunId)
        : new RotationException(RotationErrorIds.RotationInProgress, RotationErrorCategory.ResourceBusy, target,
            $"A rotation of '{target}' is already in progress: a pending version written without a run id exists. " +
            $"Promote it with 'Complete-RotationSecret -Uri {target}', or release it before writing again.");

    public static RotationException NoPending(string target) =>
        new(RotationErrorIds.NoPendingVersion, RotationErrorCategory.InvalidOperation, target,
            $"The secret '{target}' has no pending version to complete. Write one with 'Set-RotationSecret -Uri {target} -Stage Pending' first.");

    public static RotationException PendingMismatch(string target, string expectedVersionId) =>
        new(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, target,
            $"The pending version of '{target}' is not the version {expectedVersionId} this run wrote: another writer replaced it. Nothing was promoted; inspect the secret before retrying.");

    public static RotationException NoPrevious(string target) =>
        new(RotationErrorIds.NoPreviousVersion, RotationErrorCategory.InvalidOperation, target,
            $"The secret '{target}' has no previous version to return to; nothing was changed.");

    public static RotationException PreviousNotWritable(string target) =>
        Errors.Errors.InvalidArgument(target, $"A value is written to '{target}' as Pending or Current; Previous is only reached by Complete-RotationSecret or Undo-RotationSecret.");
}

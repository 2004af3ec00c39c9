namespace Rotation.Core.Errors;

/// <summary>Short constructors for the common failures, so messages read alike across the core.</summary>
public static class Errors
{
    public static RotationException InvalidArgument(string target, string message) =>
        new(RotationErrorIds.InvalidArgument, RotationErrorCategory.InvalidArgument, target, message);

    public static RotationException NotFound(string errorId, string target, string message, Exception? inner = null) =>
        new(errorId, RotationErrorCategory.ObjectNotFound, target, message, inner);

    public static RotationException InProgress(string target, string runId) =>
        new(RotationErrorIds.RotationInProgress, RotationErrorCategory.ResourceBusy, target,
            $"A rotation of '{target}' is already in progress (run {runId}): a pending version is held by that run. " +
            $"Finish it with 'Resume-Rotation -RunId {runId}' or roll it back with 'Undo-Rotation -RunId {runId}'.");
}

using System.Management.Automation;
using Rotation.Core.Errors;
using Rotation.Core.Runs;

namespace Rotation.Infrastructure;

/// <summary>
/// The small base every Rotation cmdlet derives from: builds the core's services, adapts the core's log to the
/// host streams, and turns RotationException into an ErrorRecord in exactly one place.
/// </summary>
public abstract class RotationCmdlet : PSCmdlet
{
    private RotationServices? _services;

    /// <summary>The core services for this call, created on first use from the environment.</summary>
    protected RotationServices Services => _services ??= RotationEnvironment.CreateServices(new CmdletLog(this));

    protected CancellationToken CancellationToken => _cts.Token;

    private readonly CancellationTokenSource _cts = new();

    protected override void StopProcessing()
    {
        _cts.Cancel();
        base.StopProcessing();
    }

    /// <summary>Runs a core call synchronously (cmdlets are synchronous), unwrapping AggregateException.</summary>
    protected static T Run<T>(Func<Task<T>> call) => call().ConfigureAwait(false).GetAwaiter().GetResult();

    protected static void Run(Func<Task> call) => call().ConfigureAwait(false).GetAwaiter().GetResult();

    /// <summary>One bad item: write the error and let the loop go on.</summary>
    protected void WriteRotationError(RotationException ex) => WriteError(ToErrorRecord(ex));

    /// <summary>The whole call cannot proceed.</summary>
    protected void ThrowRotationError(RotationException ex) => ThrowTerminatingError(ToErrorRecord(ex));

    /// <summary>
    /// Runs one item's work: a RotationException becomes a non-terminating ErrorRecord (the pipeline goes on with
    /// the next item); anything else is a bug and propagates.
    /// </summary>
    protected void ForItem(Action work)
    {
        try
        {
            work();
        }
        catch (RotationException ex)
        {
            WriteRotationError(ex);
        }
    }

    public static ErrorRecord ToErrorRecord(RotationException ex)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category.ToString(), out var c) ? c : ErrorCategory.NotSpecified;
        var record = new ErrorRecord(ex, ex.ErrorId, category, ex.TargetName);
        record.CategoryInfo.TargetName = ex.TargetName ?? string.Empty;
        // A failed step of a journaled run leaves the run resumable: say how, with the run's id.
        if (ex.Data[RunEngine.RunIdDataKey] is string runId)
        {
            record.ErrorDetails = new ErrorDetails(ex.Message)
            {
                RecommendedAction = $"Fix the cause, then finish the run with 'Resume-Rotation -RunId {runId}', or roll it back with 'Undo-Rotation -RunId {runId}'.",
            };
        }
        return record;
    }

    private sealed class CmdletLog(Cmdlet cmdlet) : IRotationLog
    {
        public void Verbose(string message) => cmdlet.WriteVerbose(message);

        public void Warning(string message) => cmdlet.WriteWarning(message);

        public void Progress(string activity, string status, int percentComplete) =>
            cmdlet.WriteProgress(new ProgressRecord(0, activity, status) { PercentComplete = Math.Clamp(percentComplete, -1, 100) });
    }
}

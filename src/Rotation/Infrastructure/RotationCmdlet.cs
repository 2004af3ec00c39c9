using System.Collections.Concurrent;
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
    protected T Run<T>(Func<Task<T>> call)
    {
        var task = PumpWritesUntilDone(call);
        return task.GetAwaiter().GetResult();
    }

    protected void Run(Func<Task> call) => PumpWritesUntilDone(call).GetAwaiter().GetResult();

    // PowerShell accepts Write* calls only on the pipeline thread, and the core logs (verbose, warning, progress)
    // from whichever thread its awaits resume on. While a core call runs, the pipeline thread replays those writes.
    private int _pipelineThread = Environment.CurrentManagedThreadId;
    private BlockingCollection<Action>? _pendingWrites;

    private TTask PumpWritesUntilDone<TTask>(Func<TTask> call) where TTask : Task
    {
        var outer = _pendingWrites;
        var writes = new BlockingCollection<Action>();
        _pipelineThread = Environment.CurrentManagedThreadId;
        _pendingWrites = writes;
        try
        {
            var task = call();
            task.ContinueWith(static (_, state) => ((BlockingCollection<Action>)state!).CompleteAdding(), writes,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            foreach (var write in writes.GetConsumingEnumerable(CancellationToken.None))
            {
                write();
            }
            return task;
        }
        finally
        {
            _pendingWrites = outer;
        }
    }

    private void WriteOnPipelineThread(Action write)
    {
        if (Environment.CurrentManagedThreadId == _pipelineThread)
        {
            write();
            return;
        }
        try
        {
            _pendingWrites?.Add(write);
        }
        catch (InvalidOperationException)
        {
            // The call has already completed: nobody is left on the pipeline thread to replay a late message.
        }
    }

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

    private sealed class CmdletLog(RotationCmdlet cmdlet) : IRotationLog
    {
        public void Verbose(string message) => cmdlet.WriteOnPipelineThread(() => cmdlet.WriteVerbose(message));

        public void Warning(string message) => cmdlet.WriteOnPipelineThread(() => cmdlet.WriteWarning(message));

        public void Progress(string activity, string status, int percentComplete) =>
            cmdlet.WriteOnPipelineThread(() =>
                cmdlet.WriteProgress(new ProgressRecord(0, activity, status) { PercentComplete = Math.Clamp(percentComplete, -1, 100) }));
    }
}

using System.Globalization;
using System.Runtime.ExceptionServices;
using Rotation.Core.Audit;
using Rotation.Core.Errors;

namespace Rotation.Core.Runs;

/// <summary>
/// Executes runbooks as journaled runs (DESIGN.md section 3). Before a step runs the journal records its intent
/// (Started, Attempts+1); after it, the outcome (Done, with the refs the step set). A process killed anywhere leaves
/// a run that <see cref="ResumeAsync"/> continues at the first step not Done (re-running a Started step, which is
/// idempotent by contract) or <see cref="UndoAsync"/> compensates in reverse order. The run is locked in the journal
/// while it executes, and every run start, step outcome and run end is written to the audit log.
/// </summary>
public sealed class RunEngine
{
    private static readonly IReadOnlyDictionary<string, object> NoInputs = new Dictionary<string, object>();

    private readonly RotationServices _services;

    public RunEngine(RotationServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
    }

    /// <summary>
    /// Tests only: called at each step boundary so a test can "kill the process" there by throwing an exception the
    /// engine does not handle.
    /// </summary>
    internal Action<RunCheckpoint, string>? Checkpoint { get; init; }

    private IRunJournal Journal => _services.Journal;

    private IRotationLog Log => _services.Log;

    /// <summary>
    /// Creates a run of <paramref name="runbook"/> (every step NotStarted, journaled before anything happens) and
    /// executes it. <paramref name="parameters"/> are journaled (never put a value in them: pass secrets as
    /// <paramref name="inputs"/>); a parameter <see cref="RunParameters.CredentialType"/> names the audit's credential_type.
    /// </summary>
    public async Task<RotationRun> StartAsync(IRunbook runbook, string target, IReadOnlyDictionary<string, string>? parameters = null,
        IReadOnlyDictionary<string, object>? inputs = null, AuditReason reason = AuditReason.Routine, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runbook);
        ArgumentException.ThrowIfNullOrEmpty(target);
        var now = _services.Clock.GetUtcNow();
        var run = new RotationRun
        {
            RunId = RunIds.New(_services.Clock),
            Kind = runbook.Kind,
            Target = target,
            Status = RunStatus.Running,
            CreatedAt = now,
            UpdatedAt = now,
            PerformedBy = _services.PerformedBy,
            Reason = reason,
            Parameters = parameters is null ? new(StringComparer.Ordinal) : new(parameters, StringComparer.Ordinal),
        };
        var steps = runbook.CreateSteps(run);
        var duplicate = steps.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"The runbook '{runbook.Kind}' has two steps named '{duplicate.Key}'; step names identify journal records.");
        }
        run.Steps.AddRange(steps.Select(s => new RunStepRecord { Name = s.Name }));
        using (Journal.Lock(run.RunId))
        {
            Journal.Save(run);
            Log.Verbose($"Started run {run.RunId} ({run.Kind}) of {run.Target} with {steps.Count} steps.");
            Audit(run, RunAuditEvents.RunStarted, success: true);
            await ExecuteAsync(run, steps, inputs ?? NoInputs, cancellationToken).ConfigureAwait(false);
        }
        return run;
    }

    /// <summary>
    /// Continues a run at its first step not Done. A Succeeded run is returned unchanged; a run being or already
    /// rolled back refuses with RunNotResumable.
    /// </summary>
    public async Task<RotationRun> ResumeAsync(string runId, IReadOnlyDictionary<string, object>? inputs = null, CancellationToken cancellationToken = default)
    {
        var (runLock, run) = LockExisting(runId);
        using var _ = runLock;
        switch (run.Status)
        {
            case RunStatus.Succeeded:
                Log.Verbose($"Run {runId} already succeeded; nothing to resume.");
                return run;
            case RunStatus.Undoing or RunStatus.Undone or RunStatus.UndoFailed:
                throw new RotationException(RotationErrorIds.RunNotResumable, RotationErrorCategory.InvalidOperation, runId,
                    $"Run {runId} of {run.Target} is {run.Status}: it is being rolled back, so it cannot go forward again. " +
                    (run.Status == RunStatus.Undone ? "Start a new rotation instead." : $"Finish the rollback with 'Undo-Rotation -RunId {runId}'."));
        }
        var steps = Begin(run, RunStatus.Running, RunAuditEvents.RunResumed, $"Resuming run {runId} ({run.Kind}) of {run.Target} at step '{run.NextStep}'.", run.Reason);
        await ExecuteAsync(run, steps, inputs ?? NoInputs, cancellationToken).ConfigureAwait(false);
        return run;
    }

    /// <summary>
    /// Compensates every step that ran or may have run (Done, Started, Failed) in reverse order and marks it
    /// Compensated; the run ends Undone. A compensation that throws leaves the run UndoFailed, and running this again
    /// continues the rollback. An Undone run is returned unchanged.
    /// </summary>
    public async Task<RotationRun> UndoAsync(string runId, IReadOnlyDictionary<string, object>? inputs = null, CancellationToken cancellationToken = default)
    {
        var (runLock, run) = LockExisting(runId);
        using var _ = runLock;
        if (run.Status == RunStatus.Undone)
        {
            Log.Verbose($"Run {runId} is already undone; nothing to do.");
            return run;
        }
        var steps = Begin(run, RunStatus.Undoing, RunAuditEvents.UndoStarted, $"Rolling back run {runId} ({run.Kind}) of {run.Target}.", AuditReason.Rollback);
        inputs ??= NoInputs;
        for (var i = steps.Count - 1; i >= 0; i--)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var step = steps[i];
            var record = run.Step(step.Name)!;
            if (record.Status is StepStatus.NotStarted or StepStatus.Compensated)
            {
                continue;
            }
            Log.Progress($"Undo {run.Kind} {run.Target}", $"Compensating step {i + 1}/{steps.Count}: {step.Name}", (steps.Count - 1 - i) * 100 / steps.Count);
            Checkpoint?.Invoke(RunCheckpoint.CompensationStarting, step.Name);
            try
            {
                await step.CompensateAsync(Context(run, record, inputs), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                var error = AsRotationException(ex, run, step.Name, "compensation");
                record.Error = error.Message;
                run.Status = RunStatus.UndoFailed;
                run.Error = $"Compensating step '{step.Name}' failed: {error.Message}";
                SaveAfterFailure(run);
                Audit(run, RunAuditEvents.StepCompensateFailed, success: false, step: step.Name, error: error.Message, rollbackRequired: true, reason: AuditReason.Rollback);
                Audit(run, RunAuditEvents.UndoFailed, success: false, error: run.Error, rollbackRequired: true, reason: AuditReason.Rollback);
                Rethrow(ex, error);
            }
            Checkpoint?.Invoke(RunCheckpoint.CompensationEffectDone, step.Name);
            record.Status = StepStatus.Compensated;
            record.Error = null;
            record.EndedAt = _services.Clock.GetUtcNow();
            Touch(run);
            Journal.Save(run);
            Audit(run, RunAuditEvents.StepCompensated, success: true, step: step.Name, reason: AuditReason.Rollback);
            Checkpoint?.Invoke(RunCheckpoint.CompensationJournaled, step.Name);
        }
        run.Status = RunStatus.Undone;
        Touch(run);
        Journal.Save(run);
        Log.Progress($"Undo {run.Kind} {run.Target}", "Undone", 100);
        Audit(run, RunAuditEvents.RunUndone, success: true, reason: AuditReason.Rollback);
        return run;
    }

    private async Task ExecuteAsync(RotationRun run, IReadOnlyList<IRunStep> steps, IReadOnlyDictionary<string, object> inputs, CancellationToken cancellationToken)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var record = run.Step(step.Name)!;
            if (record.Status == StepStatus.Done)
            {
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            Log.Progress($"Rotation {run.Kind} {run.Target}", $"Step {i + 1}/{steps.Count}: {step.Name}", i * 100 / steps.Count);
            // Intent first: a crash from here on leaves the step Started, and a resume runs it again.
            record.Status = StepStatus.Started;
            record.Attempts++;
            record.StartedAt = _services.Clock.GetUtcNow();
            record.EndedAt = null;
            record.Error = null;
            Touch(run);
            Journal.Save(run);
            Checkpoint?.Invoke(RunCheckpoint.StepIntentJournaled, step.Name);
            try
            {
                await step.ExecuteAsync(Context(run, record, inputs), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                var error = AsRotationException(ex, run, step.Name, "step");
                var changedState = run.Steps.Any(s => s.Status == StepStatus.Done) || record.Refs.Count > 0;
                record.Status = StepStatus.Failed;
                record.Error = error.Message;
                record.EndedAt = _services.Clock.GetUtcNow();
                run.Status = RunStatus.Failed;
                run.Error = $"Step '{step.Name}' failed: {error.Message}";
                SaveAfterFailure(run);
                Audit(run, RunAuditEvents.StepFailed, success: false, step: step.Name, error: error.Message, rollbackRequired: changedState);
                Audit(run, RunAuditEvents.RunFailed, success: false, error: run.Error, rollbackRequired: changedState);
                Rethrow(ex, error);
            }
            Checkpoint?.Invoke(RunCheckpoint.StepEffectDone, step.Name);
            record.Status = StepStatus.Done;
            record.EndedAt = _services.Clock.GetUtcNow();
            Touch(run);
            Journal.Save(run);
            Audit(run, RunAuditEvents.StepDone, success: true, step: step.Name, downtime: Downtime(record),
                fingerprint: record.Refs.GetValueOrDefault(RunRefs.Fingerprint));
            Checkpoint?.Invoke(RunCheckpoint.StepJournaled, step.Name);
        }
        run.Status = RunStatus.Succeeded;
        run.Error = null;
        Touch(run);
        Journal.Save(run);
        Log.Progress($"Rotation {run.Kind} {run.Target}", "Succeeded", 100);
        var downtimes = run.Steps.Select(Downtime).Where(d => d is not null).ToList();
        Audit(run, RunAuditEvents.RunSucceeded, success: true, downtime: downtimes.Count == 0 ? null : downtimes.Sum());
    }

    // Load before locking so an unknown id is RunNotFound (and leaves no lock file); load again under the lock
    // because another process may have moved the run on in between.
    private (IDisposable Lock, RotationRun Run) LockExisting(string runId)
    {
        _ = Journal.Load(runId);
        var runLock = Journal.Lock(runId);
        try
        {
            return (runLock, Journal.Load(runId));
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    private IReadOnlyList<IRunStep> Begin(RotationRun run, RunStatus status, string eventName, string message, AuditReason reason)
    {
        var steps = StepsOf(run);
        run.Status = status;
        run.Error = null;
        Touch(run);
        Journal.Save(run);
        Log.Verbose(message);
        Audit(run, eventName, success: true, reason: reason);
        return steps;
    }

    private IReadOnlyList<IRunStep> StepsOf(RotationRun run)
    {
        var steps = _services.Runbooks.Get(run.Kind, run.RunId).CreateSteps(run);
        if (!steps.Select(s => s.Name).SequenceEqual(run.Steps.Select(s => s.Name), StringComparer.Ordinal))
        {
            throw new RotationException(RotationErrorIds.RunNotResumable, RotationErrorCategory.InvalidOperation, run.RunId,
                $"The steps of the '{run.Kind}' runbook in this version of Rotation differ from the steps journaled for run {run.RunId} " +
                $"({string.Join(", ", run.Steps.Select(s => s.Name))}). Resume or undo it with the version that started it.");
        }
        return steps;
    }

    private RunStepContext Context(RotationRun run, RunStepRecord record, IReadOnlyDictionary<string, object> inputs) => new()
    {
        Run = run,
        Step = record,
        Services = _services,
        Inputs = inputs,
        SetRef = (name, value) =>
        {
            record.Refs[name] = value;
            Touch(run);
            Journal.Save(run);
        },
    };

    private void Touch(RotationRun run) => run.UpdatedAt = _services.Clock.GetUtcNow();

    // The step's own failure is what the caller must see; a journal that also fails here keeps the step Started,
    // which a resume runs again, so it is reported as a warning rather than replacing the step's error.
    private void SaveAfterFailure(RotationRun run)
    {
        try
        {
            Journal.Save(run);
        }
        catch (RotationException ex)
        {
            Log.Warning(ex.Message);
        }
    }

    /// <summary>The key under which a step's exception carries the run id in <see cref="Exception.Data"/>, so a
    /// caller can tell the operator which run to resume or undo.</summary>
    public const string RunIdDataKey = "RunId";

    private static RotationException AsRotationException(Exception ex, RotationRun run, string step, string what)
    {
        var error = ex as RotationException ?? new RotationException(RotationErrorIds.RunStepFailed, RotationErrorCategory.NotSpecified, run.RunId,
            $"The {what} '{step}' of run {run.RunId} ({run.Kind} of {run.Target}) failed: {ex.GetType().Name}: {ex.Message}", ex);
        error.Data[RunIdDataKey] = run.RunId;
        return error;
    }

    private static void Rethrow(Exception original, RotationException error)
    {
        if (original is OperationCanceledException or RotationException)
        {
            ExceptionDispatchInfo.Throw(original);
        }
        throw error;
    }

    private static double? Downtime(RunStepRecord record) =>
        record.Refs.TryGetValue(RunRefs.DowntimeSeconds, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? seconds
            : null;

    private void Audit(RotationRun run, string eventName, bool success, string? step = null, string? error = null, bool rollbackRequired = false,
        double? downtime = null, string? fingerprint = null, AuditReason? reason = null) =>
        _services.WriteAudit(eventName, run.Target, success, reason ?? run.Reason, run.Parameters.GetValueOrDefault(RunParameters.CredentialType),
            run.RunId, step, fingerprint, error, rollbackRequired, downtime);
}

/// <summary>Step boundaries where a test can simulate a crash.</summary>
internal enum RunCheckpoint
{
    /// <summary>The journal says Started; the step has not run (a kill before or inside its effect).</summary>
    StepIntentJournaled,

    /// <summary>The step's effect happened; the journal still says Started.</summary>
    StepEffectDone,

    /// <summary>The journal says Done.</summary>
    StepJournaled,

    /// <summary>The run is Undoing; this step's compensation has not run.</summary>
    CompensationStarting,

    CompensationEffectDone,
    CompensationJournaled,
}

/// <summary>The audit events a run writes.</summary>
public static class RunAuditEvents
{
    public const string RunStarted = "run.started";
    public const string RunResumed = "run.resumed";
    public const string StepDone = "step.done";
    public const string StepFailed = "step.failed";
    public const string RunSucceeded = "run.succeeded";
    public const string RunFailed = "run.failed";
    public const string UndoStarted = "run.undo_started";
    public const string StepCompensated = "step.compensated";
    public const string StepCompensateFailed = "step.compensate_failed";
    public const string RunUndone = "run.undone";
    public const string UndoFailed = "run.undo_failed";
}

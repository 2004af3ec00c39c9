using Rotation.Core.Audit;
using Rotation.Core.Runs;

namespace Rotation.Core.Redis;

/// <summary>
/// TEMPORARY stand-in for the foundation's RunEngine until the journal branch lands: runs steps in order with
/// intent/outcome journaling, and compensates in reverse. Replaced by RunEngine on merge.
/// </summary>
internal sealed class RedisRunDriver(RotationServices services)
{
    public async Task<RotationRun> StartAsync(IRunbook runbook, string target, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, object> inputs, AuditReason reason, CancellationToken ct)
    {
        var now = services.Clock.GetUtcNow();
        var run = new RotationRun
        {
            RunId = RunIds.New(services.Clock), Kind = runbook.Kind, Target = target, Status = RunStatus.Running,
            CreatedAt = now, UpdatedAt = now, PerformedBy = services.PerformedBy, Reason = reason,
            Parameters = new(parameters, StringComparer.Ordinal),
        };
        var steps = runbook.CreateSteps(run);
        run.Steps.AddRange(steps.Select(s => new RunStepRecord { Name = s.Name }));
        Steps[run.RunId] = steps;
        services.Journal.Save(run);
        foreach (var step in steps)
        {
            var record = run.Step(step.Name)!;
            record.Status = StepStatus.Started;
            record.Attempts++;
            services.Journal.Save(run);
            try
            {
                await step.ExecuteAsync(Context(run, record, inputs), ct).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                ex.Data["RunId"] = run.RunId;
                record.Status = StepStatus.Failed;
                record.Error = ex.Message;
                run.Status = RunStatus.Failed;
                run.Error = ex.Message;
                services.Journal.Save(run);
                throw;
            }
            record.Status = StepStatus.Done;
            services.Journal.Save(run);
        }
        run.Status = RunStatus.Succeeded;
        services.Journal.Save(run);
        return run;
    }

    public Dictionary<string, IReadOnlyList<IRunStep>> Steps { get; } = new(StringComparer.Ordinal);

    public async Task<RotationRun> UndoAsync(RotationRun run, IReadOnlyDictionary<string, object> inputs, CancellationToken ct)
    {
        var steps = Steps[run.RunId];
        for (var i = steps.Count - 1; i >= 0; i--)
        {
            var record = run.Step(steps[i].Name)!;
            if (record.Status is StepStatus.NotStarted or StepStatus.Compensated)
            {
                continue;
            }
            await steps[i].CompensateAsync(Context(run, record, inputs), ct).ConfigureAwait(false);
            record.Status = StepStatus.Compensated;
            services.Journal.Save(run);
        }
        run.Status = RunStatus.Undone;
        services.Journal.Save(run);
        return run;
    }

    private RunStepContext Context(RotationRun run, RunStepRecord record, IReadOnlyDictionary<string, object> inputs) => new()
    {
        Run = run, Step = record, Services = services, Inputs = inputs,
        SetRef = (k, v) => { record.Refs[k] = v; services.Journal.Save(run); },
    };
}

using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Postgres;

/// <summary>
/// Until the run engine and file store are merged: runs a runbook's steps in order (with refs kept on the step
/// records, as the engine does) and an in-memory store with the staging contract.
/// </summary>
internal sealed class PgRunHarness
{
    private readonly Dictionary<string, MemoryStore> _stores = new(StringComparer.Ordinal);

    public PgRunHarness()
    {
        Log = new CapturingLog();
        var registry = new SecretStoreRegistry();
        registry.Register("file", (uri, _) => { lock (_stores) { return _stores.TryGetValue(uri.Original, out var s) ? s : _stores[uri.Original] = new MemoryStore(uri); } });
        Services = new RotationServices
        {
            Stores = registry,
            StoreContext = StoreContext.Default,
            Journal = null!,
            Audit = Log,
            Log = Log,
        };
    }

    public CapturingLog Log { get; }

    public RotationServices Services { get; }

    public string SecretUri { get; } = "file:///mem/" + Guid.NewGuid().ToString("N") + ".json#db";

    public async Task<RotationRun> StartAsync(DbRotationRequest request, string? failBefore = null)
    {
        var parameters = DbUserRotator.RunParameters(request, _ => null);
        var run = new RotationRun { RunId = RunIds.New(TimeProvider.System), Kind = DbUserRotationRunbook.RunKind, Target = request.User, Parameters = parameters };
        var steps = new DbUserRotationRunbook().CreateSteps(run);
        run.Steps.AddRange(steps.Select(s => new RunStepRecord { Name = s.Name }));
        var inputs = DbUserRotator.RunInputs(request.Connection);
        foreach (var step in steps)
        {
            if (step.Name == failBefore)
            {
                run.Status = RunStatus.Failed;
                return run;
            }
            var record = run.Step(step.Name)!;
            record.Status = StepStatus.Started;
            try
            {
                await step.ExecuteAsync(Context(run, record, inputs), CancellationToken.None);
                record.Status = StepStatus.Done;
            }
            catch (RotationException ex)
            {
                record.Status = StepStatus.Failed;
                record.Error = ex.Message;
                run.Status = RunStatus.Failed;
                run.Error = ex.Message;
                throw;
            }
        }
        run.Status = RunStatus.Succeeded;
        return run;
    }

    public async Task UndoAsync(RotationRun run, RotationCredential? admin)
    {
        var steps = new DbUserRotationRunbook().CreateSteps(run);
        var inputs = new Dictionary<string, object>();
        if (admin is not null)
        {
            inputs[DbUserRotationRunbook.AdminCredentialInput] = admin;
        }
        foreach (var step in steps.Reverse())
        {
            var record = run.Step(step.Name)!;
            if (record.Status is StepStatus.Done or StepStatus.Started or StepStatus.Failed)
            {
                await step.CompensateAsync(Context(run, record, inputs), CancellationToken.None);
                record.Status = StepStatus.Compensated;
            }
        }
        run.Status = RunStatus.Undone;
    }

    private RunStepContext Context(RotationRun run, RunStepRecord record, IReadOnlyDictionary<string, object> inputs) => new()
    {
        Run = run,
        Step = record,
        Services = Services,
        Inputs = inputs,
        SetRef = (k, v) => record.Refs[k] = v,
    };

    public async Task<DbUserRotation> RotateAsync(DbRotationRequest request) =>
        await DbUserRotator.ResultAsync(await StartAsync(request), Services, CancellationToken.None);

    public ISecretStore Store(string uri) => Services.OpenStore(uri);
}

internal sealed class MemoryStore(SecretStoreUri uri) : ISecretStore
{
    private readonly List<(string Id, SecretValue Value, HashSet<SecretStage> Stages, string? RunId)> _versions = [];
    private readonly object _gate = new();

    public SecretStoreUri Uri { get; } = uri;

    public Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var v = _versions.FirstOrDefault(x => x.Stages.Contains(stage));
            return v.Id is null
                ? throw Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, Uri.Original, $"no {stage}")
                : Task.FromResult(ToStored(v));
        }
    }

    public Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(new SecretDescription
            {
                Uri = Uri,
                Exists = _versions.Count > 0,
                Versions = _versions.Select(v => new SecretVersionInfo { VersionId = v.Id, Stages = v.Stages.ToList(), RunId = v.RunId }).ToList(),
            });
        }
    }

    public Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var pending = _versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
            if (pending.Id is not null && (stage == SecretStage.Current || pending.RunId != options.RunId))
            {
                throw Errors.Errors.InProgress(Uri.Original, pending.RunId ?? "?");
            }
            if (stage == SecretStage.Current)
            {
                Move(SecretStage.Current, SecretStage.Previous);
            }
            else
            {
                pending.Stages?.Remove(SecretStage.Pending);
            }
            var v = (Guid.NewGuid().ToString("N"), value, new HashSet<SecretStage> { stage }, stage == SecretStage.Pending ? options.RunId : null);
            _versions.Add(v);
            return Task.FromResult(ToStored(v));
        }
    }

    public Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var pending = _versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
            if (pending.Id is null)
            {
                var cur = _versions.First(v => v.Stages.Contains(SecretStage.Current));
                return cur.Id == expectedVersionId ? Task.FromResult(ToStored(cur)) : throw Errors.Errors.NotFound(RotationErrorIds.NoPendingVersion, Uri.Original, "no pending");
            }
            Move(SecretStage.Current, SecretStage.Previous);
            pending.Stages.Remove(SecretStage.Pending);
            pending.Stages.Add(SecretStage.Current);
            return Task.FromResult(ToStored(pending));
        }
    }

    public Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var prev = _versions.First(v => v.Stages.Contains(SecretStage.Previous));
            var cur = _versions.First(v => v.Stages.Contains(SecretStage.Current));
            prev.Stages.Remove(SecretStage.Previous);
            cur.Stages.Remove(SecretStage.Current);
            prev.Stages.Add(SecretStage.Current);
            cur.Stages.Add(SecretStage.Previous);
            return Task.FromResult(ToStored(prev));
        }
    }

    public Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _versions.RemoveAll(v => v.Stages.Contains(SecretStage.Pending) && v.Stages.Count == 1 && (runId is null || v.RunId == runId));
            return Task.CompletedTask;
        }
    }

    private void Move(SecretStage from, SecretStage to)
    {
        foreach (var v in _versions)
        {
            v.Stages.Remove(to);
        }
        foreach (var v in _versions.Where(v => v.Stages.Contains(from)))
        {
            v.Stages.Remove(from);
            v.Stages.Add(to);
        }
    }

    private StoredSecret ToStored((string Id, SecretValue Value, HashSet<SecretStage> Stages, string? RunId) v) =>
        new() { Uri = Uri, VersionId = v.Id, Stages = v.Stages.ToList(), Value = v.Value, RunId = v.RunId };
}

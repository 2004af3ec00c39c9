using Rotation.Core.Runs;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Runs;

/// <summary>
/// The journal's acceptance test: kill the process (a simulated crash the engine does not handle) at every step
/// boundary, both after a step's effect but before the journal says Done and after it says Done, then resume in a
/// brand-new engine over the same state folder. The end state must equal an uninterrupted run's, and no step's
/// effect may happen twice. The same for undo.
/// </summary>
public sealed class RunEngineCrashTests
{
    private static readonly string[] StepNames = ["create-user", "store-pending", "switch-current", "retire-old-user"];

    public static TheoryData<string, string> Boundaries()
    {
        var data = new TheoryData<string, string>();
        foreach (var step in StepNames)
        {
            data.Add(nameof(RunCheckpoint.StepIntentJournaled), step);
            data.Add(nameof(RunCheckpoint.StepEffectDone), step);
            data.Add(nameof(RunCheckpoint.StepJournaled), step);
        }
        return data;
    }

    public static TheoryData<string, string> UndoBoundaries()
    {
        var data = new TheoryData<string, string>();
        foreach (var step in StepNames)
        {
            data.Add(nameof(RunCheckpoint.CompensationStarting), step);
            data.Add(nameof(RunCheckpoint.CompensationEffectDone), step);
            data.Add(nameof(RunCheckpoint.CompensationJournaled), step);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task Crash_at_a_step_boundary_then_resume_in_a_new_engine_matches_an_uninterrupted_run(string checkpoint, string step)
    {
        var expected = await UninterruptedEndState();
        using var dir = TestEnvironment.NewTempDirectory();
        var target = FakeTarget.Initial();

        var crashing = new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook())) { Checkpoint = CrashAt(checkpoint, step) };
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.StartAsync(new SampleRunbook(), "app@db", Parameters(), RunTestKit.Inputs(target)));

        var services = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        var crashed = Assert.Single(services.Journal.List());
        Assert.Equal(RunStatus.Running, crashed.Status);
        var run = await new RunEngine(services).ResumeAsync(crashed.RunId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(expected, target.Snapshot());
        Assert.All(StepNames, s => Assert.Equal(1, target.Applied.GetValueOrDefault(s)));
        Assert.Equal(StepNames.Select(s => "do:" + s), target.Order);
        Assert.Equal(RunStatus.Succeeded, services.Journal.Load(run.RunId).Status);
        Assert.All(run.Steps, s => Assert.Equal(StepStatus.Done, s.Status));
        // A step journaled Done is never run again; one journaled Started runs once more (and skips an effect already made).
        var crashedStep = run.Step(step)!;
        Assert.Equal(checkpoint == nameof(RunCheckpoint.StepJournaled) ? 1 : 2, crashedStep.Attempts);
        Assert.Equal("v2", run.Step("store-pending")!.Refs["VersionId"]);
        var audit = RunTestKit.Audit(dir.Path);
        Assert.Equal(["run.started", "run.resumed", "run.succeeded"], audit.Where(a => a.Event.StartsWith("run.", StringComparison.Ordinal)).Select(a => a.Event));
    }

    [Fact]
    public async Task A_crash_at_every_boundary_in_turn_still_ends_like_an_uninterrupted_run()
    {
        var expected = await UninterruptedEndState();
        using var dir = TestEnvironment.NewTempDirectory();
        var target = FakeTarget.Initial();
        var boundaries = StepNames.SelectMany(s => new[] { (RunCheckpoint.StepIntentJournaled, s), (RunCheckpoint.StepEffectDone, s), (RunCheckpoint.StepJournaled, s) }).ToList();
        string? runId = null;
        foreach (var (checkpoint, step) in boundaries)
        {
            var engine = new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook())) { Checkpoint = CrashAt(checkpoint.ToString(), step) };
            await Assert.ThrowsAsync<SimulatedCrash>(() => runId is null
                ? engine.StartAsync(new SampleRunbook(), "app@db", Parameters(), RunTestKit.Inputs(target))
                : engine.ResumeAsync(runId, RunTestKit.Inputs(target)));
            runId ??= Assert.Single(RunTestKit.Services(dir.Path).Journal.List()).RunId;
        }
        var run = await new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook())).ResumeAsync(runId!, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(expected, target.Snapshot());
        Assert.All(StepNames, s => Assert.Equal(1, target.Applied[s]));
    }

    [Theory]
    [MemberData(nameof(UndoBoundaries))]
    public async Task Crash_during_undo_then_undo_again_in_a_new_engine_restores_the_initial_state(string checkpoint, string step)
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var target = FakeTarget.Initial();
        var initial = target.Snapshot();
        var done = await new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook()))
            .StartAsync(new SampleRunbook(), "app@db", Parameters(), RunTestKit.Inputs(target));

        var crashing = new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook())) { Checkpoint = CrashAt(checkpoint, step) };
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.UndoAsync(done.RunId, RunTestKit.Inputs(target)));
        var services = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        Assert.Equal(RunStatus.Undoing, services.Journal.Load(done.RunId).Status);
        await Assert.ThrowsAsync<Errors.RotationException>(() => new RunEngine(services).ResumeAsync(done.RunId, RunTestKit.Inputs(target)));

        var undone = await new RunEngine(services).UndoAsync(done.RunId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Undone, undone.Status);
        Assert.Equal(initial, target.Snapshot());
        Assert.All(StepNames, s => Assert.Equal(1, target.Compensated[s]));
        Assert.Equal(StepNames.Reverse().Select(s => "undo:" + s), target.Order.Where(o => o.StartsWith("undo:", StringComparison.Ordinal)));
        Assert.All(undone.Steps, s => Assert.Equal(StepStatus.Compensated, s.Status));
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task Crash_mid_run_then_undo_restores_the_initial_state(string checkpoint, string step)
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var target = FakeTarget.Initial();
        var initial = target.Snapshot();
        var crashing = new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook())) { Checkpoint = CrashAt(checkpoint, step) };
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.StartAsync(new SampleRunbook(), "app@db", Parameters(), RunTestKit.Inputs(target)));
        var services = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        var runId = Assert.Single(services.Journal.List()).RunId;

        var undone = await new RunEngine(services).UndoAsync(runId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Undone, undone.Status);
        Assert.Equal(initial, target.Snapshot());
        // Steps that never started are not compensated; every step that changed something is compensated once, and a
        // step killed before its effect is compensated as a no-op.
        var started = StepNames.Take(Array.IndexOf(StepNames, step) + 1).ToList();
        var changed = checkpoint == nameof(RunCheckpoint.StepIntentJournaled) ? started.SkipLast(1).ToList() : started;
        Assert.All(changed, s => Assert.Equal(1, target.Compensated[s]));
        Assert.All(started, s => Assert.Equal(StepStatus.Compensated, undone.Step(s)!.Status));
        Assert.All(StepNames.Except(changed), s => Assert.False(target.Compensated.ContainsKey(s)));
        Assert.All(StepNames.Except(started), s => Assert.Equal(StepStatus.NotStarted, undone.Step(s)!.Status));
    }

    private static async Task<string> UninterruptedEndState()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var target = FakeTarget.Initial();
        var run = await new RunEngine(RunTestKit.Services(dir.Path, null, new SampleRunbook()))
            .StartAsync(new SampleRunbook(), "app@db", Parameters(), RunTestKit.Inputs(target));
        Assert.Equal(RunStatus.Succeeded, run.Status);
        return target.Snapshot();
    }

    private static Dictionary<string, string> Parameters() => new() { [RunParameters.CredentialType] = "sample-password", ["User"] = "app" };

    private static Action<RunCheckpoint, string> CrashAt(string checkpoint, string step) => (at, name) =>
    {
        if (at.ToString() == checkpoint && name == step)
        {
            throw new SimulatedCrash($"{checkpoint} of {step}");
        }
    };
}

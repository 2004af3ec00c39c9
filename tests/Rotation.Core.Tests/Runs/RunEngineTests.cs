using System.Text.Json;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Runs;

public sealed class RunEngineTests
{
    [Fact]
    public async Task A_run_journals_every_step_done_and_audits_start_steps_and_end()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var log = new CapturingLog();
        var services = RunTestKit.Services(dir.Path, log, new SampleRunbook());
        var target = FakeTarget.Initial();

        var run = await new RunEngine(services).StartAsync(new SampleRunbook(), "app@db",
            new Dictionary<string, string> { [RunParameters.CredentialType] = "sample-password" }, RunTestKit.Inputs(target), AuditReason.Emergency);

        Assert.Matches("^r-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$", run.RunId);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Null(run.NextStep);
        var stored = services.Journal.Load(run.RunId);
        Assert.All(stored.Steps, s => Assert.Equal((StepStatus.Done, 1), (s.Status, s.Attempts)));
        Assert.All(stored.Steps, s => Assert.True(s.StartedAt <= s.EndedAt));
        Assert.Equal("tester", stored.PerformedBy);

        var audit = RunTestKit.Audit(dir.Path);
        Assert.Equal(["run.started", "step.done", "step.done", "step.done", "step.done", "run.succeeded"], audit.Select(a => a.Event));
        Assert.All(audit, a => Assert.Equal((run.RunId, "app@db", "sample-password", AuditReason.Emergency, true, "tester"),
            (a.RunId, a.Target, a.CredentialType, a.Reason, a.Success, a.PerformedBy)));
        Assert.Equal(["create-user", "store-pending", "switch-current", "retire-old-user"], audit.Where(a => a.Step is not null).Select(a => a.Step!));
        Assert.Equal(0.5, audit.Single(a => a.Step == "retire-old-user").DowntimeSeconds);
        Assert.Equal(0.5, audit.Last().DowntimeSeconds);
        Assert.Contains(log.Lines, l => l.StartsWith("PROGRESS: ", StringComparison.Ordinal) && l.EndsWith(" 100", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_step_fails_the_run_with_its_own_error_and_a_resume_finishes_it()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var book = new SampleRunbook();
        var services = RunTestKit.Services(dir.Path, null, book);
        var target = FakeTarget.Initial();
        book.FailStep = s => s == "switch-current" ? Errors.Errors.NotFound(RotationErrorIds.DbUserNotFound, "app-2", "The user app-2 is gone.") : null;

        var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(target)));

        Assert.Equal(RotationErrorIds.DbUserNotFound, ex.ErrorId);
        var runId = Assert.IsType<string>(ex.Data[RunEngine.RunIdDataKey]);
        var failed = services.Journal.Load(runId);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal("switch-current", failed.NextStep);
        Assert.Equal((StepStatus.Failed, "The user app-2 is gone."), (failed.Step("switch-current")!.Status, failed.Step("switch-current")!.Error));
        Assert.Contains("switch-current", failed.Error, StringComparison.Ordinal);
        var audit = RunTestKit.Audit(dir.Path);
        var stepFailed = audit.Single(a => a.Event == "step.failed");
        Assert.Equal((false, true, "switch-current", "The user app-2 is gone."), (stepFailed.Success, stepFailed.RollbackRequired, stepFailed.Step, stepFailed.Error));
        Assert.Equal("run.failed", audit[^1].Event);
        Assert.True(audit[^1].RollbackRequired);

        book.FailStep = null;
        var resumed = await new RunEngine(services).ResumeAsync(runId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Null(resumed.Error);
        Assert.Equal(2, resumed.Step("switch-current")!.Attempts);
        Assert.Null(resumed.Step("switch-current")!.Error);
        Assert.Equal(1, target.Applied["create-user"]);
    }

    [Fact]
    public async Task A_failure_in_the_first_step_before_any_change_does_not_require_rollback()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var book = new SampleRunbook { FailStep = s => s == "create-user" ? Errors.Errors.InvalidArgument("app", "no") : null };
        var services = RunTestKit.Services(dir.Path, null, book);

        await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(FakeTarget.Initial())));

        Assert.All(RunTestKit.Audit(dir.Path).Where(a => !a.Success), a => Assert.False(a.RollbackRequired));
    }

    [Fact]
    public async Task Other_exceptions_are_wrapped_in_RunStepFailed_with_the_inner_exception_kept()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var boom = new InvalidOperationException("socket closed");
        var book = new SampleRunbook { FailStep = s => s == "store-pending" ? boom : null };
        var services = RunTestKit.Services(dir.Path, null, book);

        var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(FakeTarget.Initial())));

        Assert.Equal(RotationErrorIds.RunStepFailed, ex.ErrorId);
        Assert.Same(boom, ex.InnerException);
        Assert.Contains("store-pending", ex.Message, StringComparison.Ordinal);
        Assert.Contains("socket closed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ex.Data[RunEngine.RunIdDataKey], ex.TargetName);
    }

    [Fact]
    public async Task Resuming_a_succeeded_run_does_nothing_and_undoing_an_undone_run_does_nothing()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var services = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        var target = FakeTarget.Initial();
        var engine = new RunEngine(services);
        var run = await engine.StartAsync(new SampleRunbook(), "app@db", null, RunTestKit.Inputs(target));
        var auditLines = RunTestKit.Audit(dir.Path).Count;

        var again = await engine.ResumeAsync(run.RunId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Succeeded, again.Status);
        Assert.Equal(auditLines, RunTestKit.Audit(dir.Path).Count);
        Assert.All(again.Steps, s => Assert.Equal(1, s.Attempts));

        var undone = await engine.UndoAsync(run.RunId, RunTestKit.Inputs(target));
        var afterUndo = RunTestKit.Audit(dir.Path);
        var undoneAgain = await engine.UndoAsync(run.RunId, RunTestKit.Inputs(target));

        Assert.Equal((RunStatus.Undone, RunStatus.Undone), (undone.Status, undoneAgain.Status));
        Assert.Equal(afterUndo.Count, RunTestKit.Audit(dir.Path).Count);
        Assert.Equal(["run.undo_started", "step.compensated", "step.compensated", "step.compensated", "step.compensated", "run.undone"],
            afterUndo.Skip(auditLines).Select(a => a.Event));
        Assert.All(afterUndo.Skip(auditLines), a => Assert.Equal(AuditReason.Rollback, a.Reason));
        var notResumable = await Assert.ThrowsAsync<RotationException>(() => engine.ResumeAsync(run.RunId, RunTestKit.Inputs(target)));
        Assert.Equal(RotationErrorIds.RunNotResumable, notResumable.ErrorId);
    }

    [Fact]
    public async Task A_failing_compensation_leaves_the_run_UndoFailed_and_undo_again_finishes_it()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var book = new SampleRunbook();
        var services = RunTestKit.Services(dir.Path, null, book);
        var target = FakeTarget.Initial();
        var initial = target.Snapshot();
        var run = await new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(target));
        book.FailCompensation = s => s == "store-pending" ? new IOException("store unreachable") : null;

        var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).UndoAsync(run.RunId, RunTestKit.Inputs(target)));

        Assert.Equal(RotationErrorIds.RunStepFailed, ex.ErrorId);
        var stuck = services.Journal.Load(run.RunId);
        Assert.Equal(RunStatus.UndoFailed, stuck.Status);
        Assert.Equal(StepStatus.Compensated, stuck.Step("switch-current")!.Status);
        Assert.Equal(StepStatus.Done, stuck.Step("store-pending")!.Status);
        Assert.Contains("store unreachable", stuck.Step("store-pending")!.Error, StringComparison.Ordinal);
        Assert.Equal(["step.compensate_failed", "run.undo_failed"], RunTestKit.Audit(dir.Path).TakeLast(2).Select(a => a.Event));

        book.FailCompensation = null;
        var undone = await new RunEngine(services).UndoAsync(run.RunId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Undone, undone.Status);
        Assert.Equal(initial, target.Snapshot());
        Assert.All(target.Compensated.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_run_held_by_another_process_refuses_with_RunLocked_and_changes_nothing()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var book = new SampleRunbook { FailStep = s => s == "switch-current" ? new IOException("x") : null };
        var services = RunTestKit.Services(dir.Path, null, book);
        var target = FakeTarget.Initial();
        var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(target)));
        var runId = (string)ex.Data[RunEngine.RunIdDataKey]!;
        book.FailStep = null;

        using (RunTestKit.Services(dir.Path).Journal.Lock(runId))
        {
            var locked = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).ResumeAsync(runId, RunTestKit.Inputs(target)));
            Assert.Equal(RotationErrorIds.RunLocked, locked.ErrorId);
            var lockedUndo = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).UndoAsync(runId, RunTestKit.Inputs(target)));
            Assert.Equal(RotationErrorIds.RunLocked, lockedUndo.ErrorId);
        }

        Assert.Equal(RunStatus.Failed, services.Journal.Load(runId).Status);
        Assert.Equal(RunStatus.Succeeded, (await new RunEngine(services).ResumeAsync(runId, RunTestKit.Inputs(target))).Status);
    }

    [Fact]
    public async Task Resume_of_an_unknown_run_or_kind_is_a_clear_error()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var services = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        var missing = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).ResumeAsync("r-20260101T000000Z-00000000"));
        Assert.Equal(RotationErrorIds.RunNotFound, missing.ErrorId);

        var book = new SampleRunbook { FailStep = _ => new IOException("x") };
        var failed = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(FakeTarget.Initial())));
        var withoutRunbooks = RunTestKit.Services(dir.Path);
        var unknown = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(withoutRunbooks).ResumeAsync((string)failed.Data[RunEngine.RunIdDataKey]!));
        Assert.Equal(RotationErrorIds.RunbookNotFound, unknown.ErrorId);
        Assert.Contains(SampleRunbook.KindName, unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetRef_is_durable_at_once_so_a_crash_right_after_keeps_the_reference()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var services = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        var engine = new RunEngine(services)
        {
            Checkpoint = (at, step) =>
            {
                if (at == RunCheckpoint.StepEffectDone && step == "store-pending")
                {
                    throw new SimulatedCrash(step);
                }
            },
        };

        await Assert.ThrowsAsync<SimulatedCrash>(() => engine.StartAsync(new SampleRunbook(), "app@db", null, RunTestKit.Inputs(FakeTarget.Initial())));

        var run = Assert.Single(RunTestKit.Services(dir.Path).Journal.List());
        Assert.Equal((StepStatus.Started, "v2"), (run.Step("store-pending")!.Status, run.Step("store-pending")!.Refs["VersionId"]));
        Assert.Equal("store-pending", run.NextStep);
    }

    [Fact]
    public async Task A_missing_secret_input_on_resume_names_the_input()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var book = new SampleRunbook { FailStep = s => s == "switch-current" ? new IOException("x") : null };
        var services = RunTestKit.Services(dir.Path, null, book);
        var first = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(book, "app@db", null, RunTestKit.Inputs(FakeTarget.Initial())));
        book.FailStep = null;

        var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).ResumeAsync((string)first.Data[RunEngine.RunIdDataKey]!));

        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
        Assert.Contains(FakeTarget.InputKey, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_secret_value_reaches_the_journal_the_audit_log_or_the_log(bool journalInStore)
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var log = new CapturingLog();
        var services = RunTestKit.Services(dir.Path, log, new SampleRunbook());
        if (journalInStore)
        {
            services = new RotationServices
            {
                Stores = services.Stores,
                StoreContext = services.StoreContext,
                Journal = new StoreRunJournal($"file://{dir.File("journal.json")}#journal", services.Stores, services.StoreContext, log),
                Audit = services.Audit,
                Runbooks = services.Runbooks,
                Log = log,
            };
        }
        var password = SecretGenerator.NewPassword(32);
        var target = FakeTarget.Initial();
        var inputs = new Dictionary<string, object>
        {
            [FakeTarget.InputKey] = target,
            ["NewPassword"] = RotationCredential.FromPlainText("app-2", password),
            [RunInputs.AdminCredential] = RotationCredential.FromPlainText("admin", password + "x"),
        };

        var run = await new RunEngine(services).StartAsync(new SampleRunbook(), "app@db", new Dictionary<string, string> { ["User"] = "app" }, inputs);
        await new RunEngine(services).UndoAsync(run.RunId, inputs);

        var fingerprint = run.Step("store-pending")!.Refs[RunRefs.Fingerprint];
        Assert.Equal(Fingerprint.Of(password), fingerprint);
        Assert.Contains(RunTestKit.Audit(dir.Path), a => a.Fingerprint == fingerprint);
        LeakAssert.NoneOf([password, password + "x"],
            [.. LeakAssert.FilesUnder(dir.Path), ("log", log.Text), ("run", JsonSerializer.Serialize(run))]);
    }

    [Fact]
    public async Task An_audit_failure_stops_the_run_before_any_step()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("not-a-folder"), "x");
        var target = FakeTarget.Initial();
        var baseServices = RunTestKit.Services(dir.Path, null, new SampleRunbook());
        var services = new RotationServices
        {
            Stores = baseServices.Stores,
            StoreContext = baseServices.StoreContext,
            Journal = baseServices.Journal,
            Audit = new JsonlAuditLog(Path.Combine(dir.File("not-a-folder"), "audit.jsonl")),
            Runbooks = baseServices.Runbooks,
        };

        var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(services).StartAsync(new SampleRunbook(), "app@db", null, RunTestKit.Inputs(target)));

        Assert.Equal(RotationErrorIds.AuditWriteFailed, ex.ErrorId);
        Assert.Empty(target.Applied);
        Assert.Equal("create-user", Assert.Single(services.Journal.List()).NextStep);
    }
}

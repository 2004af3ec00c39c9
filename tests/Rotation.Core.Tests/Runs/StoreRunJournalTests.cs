using System.Text.Json;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Runs;

/// <summary>The journal at a store URI, against the real file store: two "agents" are two journals over one URI.</summary>
public sealed class StoreRunJournalTests
{
    private static StoreRunJournal Journal(string uri, IRotationLog? log = null, TimeSpan? lease = null) =>
        new(uri, SecretStoreRegistry.CreateDefault(), new StoreContext(), log) { LeaseDuration = lease ?? TimeSpan.FromMinutes(5) };

    private static string Uri(TempDirectory dir) => $"file://{dir.File("journal.json")}#rotation/journal";

    private static RotationServices Services(RotationServices fileServices, IRunJournal journal) => new()
    {
        Stores = fileServices.Stores,
        StoreContext = fileServices.StoreContext,
        Journal = journal,
        Audit = fileServices.Audit,
        Runbooks = fileServices.Runbooks,
        Log = fileServices.Log,
    };

    [Fact]
    public async Task Runs_saved_by_one_agent_are_loaded_and_listed_by_another()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var agentA = Journal(Uri(dir));
        var t0 = DateTimeOffset.UtcNow;
        var run = new RotationRun { RunId = "r-2", Kind = "k", Target = "t", CreatedAt = t0, Steps = { new RunStepRecord { Name = "one" } } };
        agentA.Save(run);
        run.Status = RunStatus.Failed;
        run.Step("one")!.Refs["VersionId"] = "v9";
        agentA.Save(run);
        agentA.Save(new RotationRun { RunId = "r-1", Kind = "k", Target = "t", CreatedAt = t0.AddMinutes(-1) });

        var agentB = Journal(Uri(dir));
        var loaded = agentB.Load("r-2");

        Assert.Equal((RunStatus.Failed, "v9"), (loaded.Status, loaded.Step("one")!.Refs["VersionId"]));
        Assert.Equal(["r-1", "r-2"], agentB.List().Select(r => r.RunId));
        Assert.Equal(RotationErrorIds.RunNotFound, Assert.Throws<RotationException>(() => agentB.Load("r-3")).ErrorId);
        using var index = JsonDocument.Parse((await SecretStoreRegistry.CreateDefault().Open(Uri(dir)).GetAsync(SecretStage.Current)).Value.ToStoreText());
        Assert.Equal(2, index.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Agents_starting_runs_at_the_same_time_are_all_indexed()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var ids = Enumerable.Range(0, 6).Select(i => $"r-{i:00}").ToList();

        await Task.WhenAll(ids.Select(id => Task.Run(() => Journal(Uri(dir)).Save(new RotationRun { RunId = id, Kind = "k", Target = "t" }))));

        Assert.Equal(ids, Journal(Uri(dir)).List().Select(r => r.RunId).Order());
    }

    [Fact]
    public void A_lock_held_by_one_agent_refuses_another_until_released()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var agentA = Journal(Uri(dir));
        var agentB = Journal(Uri(dir));

        using (agentA.Lock("r-1"))
        {
            Assert.Equal(RotationErrorIds.RunLocked, Assert.Throws<RotationException>(() => agentB.Lock("r-1")).ErrorId);
            using var other = agentB.Lock("r-2");
        }

        using var again = agentB.Lock("r-1");
    }

    [Fact]
    public async Task A_live_holder_renews_its_lease_and_a_dead_one_lapses()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var log = new CapturingLog();
        var agentA = Journal(Uri(dir), lease: TimeSpan.FromMilliseconds(300));
        var agentB = Journal(Uri(dir), log, TimeSpan.FromMilliseconds(300));

        using (agentA.Lock("r-1"))
        {
            await Task.Delay(1000);
            Assert.Equal(RotationErrorIds.RunLocked, Assert.Throws<RotationException>(() => agentB.Lock("r-1")).ErrorId);
        }

        // An agent that died leaves its lease behind, unrenewed.
        var lockStore = SecretStoreRegistry.CreateDefault().Open($"file://{dir.File("journal.json")}#rotation/journal/r-1.lock");
        var lapsed = JsonSerializer.Serialize(new Dictionary<string, string> { ["holder"] = "lock-dead", ["expiresAt"] = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O") });
        await lockStore.PutAsync(SecretValue.FromText(lapsed), SecretStage.Pending, new SecretWriteOptions { RunId = "lock-dead" });

        using (agentB.Lock("r-1"))
        {
            Assert.Contains(log.Warnings, w => w.Contains("Taking over the lock of run r-1", StringComparison.Ordinal));
            Assert.Equal(RotationErrorIds.RunLocked, Assert.Throws<RotationException>(() => agentA.Lock("r-1")).ErrorId);
        }
    }

    [Fact]
    public void A_journal_uri_with_a_field_or_an_unknown_scheme_is_refused()
    {
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => Journal("file:///tmp/j.json#journal#field")).ErrorId);
        Assert.Equal(RotationErrorIds.UnknownStoreScheme, Assert.Throws<RotationException>(() => Journal("nope://x/y")).ErrorId);
    }

    [Theory]
    [InlineData(nameof(RunCheckpoint.StepEffectDone))]
    [InlineData(nameof(RunCheckpoint.StepJournaled))]
    public async Task An_agent_resumes_a_run_another_agent_started_and_crashed(string checkpoint)
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var target = FakeTarget.Initial();
        var agentA = Services(RunTestKit.Services(dir.Path, null, new SampleRunbook()), Journal(Uri(dir)));
        var crashing = new RunEngine(agentA)
        {
            Checkpoint = (at, step) =>
            {
                if (at.ToString() == checkpoint && step == "switch-current")
                {
                    throw new SimulatedCrash(step);
                }
            },
        };
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.StartAsync(new SampleRunbook(), "app@db", null, RunTestKit.Inputs(target), AuditReason.Routine));

        var agentB = Services(RunTestKit.Services(dir.Path, null, new SampleRunbook()), Journal(Uri(dir)));
        var runId = Assert.Single(agentB.Journal.List()).RunId;
        var run = await new RunEngine(agentB).ResumeAsync(runId, RunTestKit.Inputs(target));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.All(target.Applied.Values, n => Assert.Equal(1, n));
        Assert.Equal(4, target.Applied.Count);
        var undone = await new RunEngine(agentA).UndoAsync(runId, RunTestKit.Inputs(target));
        Assert.Equal(RunStatus.Undone, undone.Status);
        Assert.Equal(FakeTarget.Initial().Snapshot(), target.Snapshot());
    }

    [Fact]
    public void The_environment_puts_the_journal_in_a_store_when_ROTATION_JOURNAL_URI_is_set()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var env = new Dictionary<string, string?> { [RotationPaths.StateDirVariable] = dir.Path, [RotationPaths.JournalUriVariable] = Uri(dir) };

        var services = RotationEnvironment.CreateServices(new CapturingLog(), n => env.GetValueOrDefault(n));

        Assert.Equal(Uri(dir), Assert.IsType<StoreRunJournal>(services.Journal).BaseUri.Original);
    }
}

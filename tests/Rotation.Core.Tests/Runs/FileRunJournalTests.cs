using System.Diagnostics;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Runs;

public sealed class FileRunJournalTests
{
    private static RotationRun NewRun(string runId, DateTimeOffset createdAt) => new()
    {
        RunId = runId,
        Kind = "SampleRotation",
        Target = "app@db",
        CreatedAt = createdAt,
        UpdatedAt = createdAt,
        Reason = AuditReason.Emergency,
        Parameters = { ["Server"] = "db", ["User"] = "app" },
        Steps =
        {
            new RunStepRecord { Name = "one", Status = StepStatus.Done, Attempts = 2, Refs = { ["VersionId"] = "v2" } },
            new RunStepRecord { Name = "two", Status = StepStatus.Started, Error = "boom" },
        },
    };

    [Fact]
    public void A_saved_run_loads_back_unchanged_from_an_owner_only_file()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var journal = new FileRunJournal(dir.File("state/runs"));
        var run = NewRun("r-1", DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        journal.Save(run);
        run.Status = RunStatus.Failed;
        journal.Save(run);
        var loaded = journal.Load("r-1");

        Assert.Equal((RunStatus.Failed, "SampleRotation", "app@db", AuditReason.Emergency), (loaded.Status, loaded.Kind, loaded.Target, loaded.Reason));
        Assert.Equal(run.CreatedAt, loaded.CreatedAt);
        Assert.Equal("db", loaded.Parameters["Server"]);
        Assert.Equal((StepStatus.Done, 2, "v2"), (loaded.Steps[0].Status, loaded.Steps[0].Attempts, loaded.Steps[0].Refs["VersionId"]));
        Assert.Equal((StepStatus.Started, "boom"), (loaded.Steps[1].Status, loaded.Steps[1].Error));
        Assert.Equal("two", loaded.NextStep);
        Assert.Equal(["r-1.json"], Directory.GetFiles(journal.Directory).Select(Path.GetFileName));
        Assert.Contains("\"Status\": \"Failed\"", File.ReadAllText(Path.Combine(journal.Directory, "r-1.json")), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(journal.Directory, "r-1.json")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(journal.Directory));
        }
    }

    [Fact]
    public void Missing_runs_corrupt_documents_and_bad_ids_are_clear_errors()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var journal = new FileRunJournal(dir.Path);
        File.WriteAllText(dir.File("r-bad.json"), "{ \"RunId\": \"r-bad\", \"Kind\": ");
        File.WriteAllText(dir.File("r-other.json"), File.Exists(dir.File("x")) ? "" : "{\"RunId\":\"r-else\",\"Kind\":\"k\",\"Target\":\"t\"}");

        Assert.Equal(RotationErrorIds.RunNotFound, Assert.Throws<RotationException>(() => journal.Load("r-missing")).ErrorId);
        var corrupt = Assert.Throws<RotationException>(() => journal.Load("r-bad"));
        Assert.Equal((RotationErrorIds.JournalCorrupt, "r-bad"), (corrupt.ErrorId, corrupt.TargetName));
        Assert.Contains(dir.File("r-bad.json"), corrupt.Message, StringComparison.Ordinal);
        Assert.Equal(RotationErrorIds.JournalCorrupt, Assert.Throws<RotationException>(() => journal.Load("r-other")).ErrorId);
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => journal.Load("../etc/passwd")).ErrorId);
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => journal.Lock("a/b")).ErrorId);
    }

    [Fact]
    public void List_returns_runs_oldest_first_and_warns_about_unreadable_ones()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var log = new CapturingLog();
        var journal = new FileRunJournal(dir.Path, log);
        var t0 = DateTimeOffset.UtcNow;
        journal.Save(NewRun("r-b", t0));
        journal.Save(NewRun("r-a", t0.AddMinutes(1)));
        journal.Save(NewRun("r-c", t0.AddMinutes(-1)));
        File.WriteAllText(dir.File("r-torn.json"), "{");

        Assert.Equal(["r-c", "r-b", "r-a"], journal.List().Select(r => r.RunId));
        Assert.Contains(log.Warnings, w => w.Contains("r-torn", StringComparison.Ordinal));
        Assert.Empty(new FileRunJournal(dir.File("none")).List());
        Assert.False(Directory.Exists(dir.File("none")));
    }

    [Fact]
    public void A_lock_is_exclusive_until_released()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var journal = new FileRunJournal(dir.Path);
        var other = new FileRunJournal(dir.Path);

        using (journal.Lock("r-1"))
        {
            var ex = Assert.Throws<RotationException>(() => other.Lock("r-1"));
            Assert.Equal((RotationErrorIds.RunLocked, "r-1"), (ex.ErrorId, ex.TargetName));
            using var unrelated = other.Lock("r-2");
        }

        using var again = other.Lock("r-1");
    }

    [Fact]
    public void A_lock_excludes_other_processes()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = TestEnvironment.NewTempDirectory();
        var journal = new FileRunJournal(dir.Path);
        var lockFile = Path.Combine(dir.Path, "r-1.lock");

        using (journal.Lock("r-1"))
        {
            Assert.Equal(1, FlockExitCode(lockFile));
        }

        Assert.Equal(0, FlockExitCode(lockFile));
    }

    [Fact]
    public async Task Concurrent_saves_of_one_run_always_leave_a_whole_document()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var journal = new FileRunJournal(dir.Path);
        var run = NewRun("r-1", DateTimeOffset.UtcNow);
        journal.Save(run);
        var reads = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            do
            {
                Assert.Equal("r-1", journal.Load("r-1").RunId);
                Interlocked.Increment(ref reads);
            }
            while (!stop.IsCancellationRequested);
        });

        // Writers keep replacing the document until the reader has seen it many times mid-churn.
        var writes = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 0; Volatile.Read(ref reads) < 200 || i < 50; i++)
            {
                var copy = NewRun("r-1", run.CreatedAt);
                copy.Steps[0].Refs["i"] = $"{w}-{i}";
                journal.Save(copy);
                Interlocked.Increment(ref writes);
            }
        })));
        await stop.CancelAsync();
        await reader;

        Assert.True(writes >= 200);
        Assert.Equal(["r-1.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void An_unwritable_journal_folder_is_JournalWriteFailed()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("file"), "x");
        var journal = new FileRunJournal(Path.Combine(dir.File("file"), "runs"));

        var ex = Assert.Throws<RotationException>(() => journal.Save(NewRun("r-1", DateTimeOffset.UtcNow)));

        Assert.Equal((RotationErrorIds.JournalWriteFailed, "r-1"), (ex.ErrorId, ex.TargetName));
    }

    // flock(1) uses flock(2), as .NET does for FileShare.None: exit 1 when the lock is held elsewhere.
    private static int FlockExitCode(string lockFile)
    {
        using var process = Process.Start(new ProcessStartInfo("flock", ["-n", "-E", "1", lockFile, "true"]) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }
}

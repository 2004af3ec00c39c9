using System.Collections.Concurrent;
using Rotation.Core.Audit;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Runs;

/// <summary>Services over a temp state folder, built fresh for each simulated process.</summary>
internal static class RunTestKit
{
    public static RotationServices Services(string stateDir, IRotationLog? log = null, params IRunbook[] runbooks)
    {
        var registry = new RunbookRegistry();
        foreach (var runbook in runbooks)
        {
            registry.Register(runbook);
        }
        log ??= new CapturingLog();
        return new RotationServices
        {
            Stores = SecretStoreRegistry.CreateDefault(),
            StoreContext = new StoreContext(),
            Journal = new FileRunJournal(Path.Combine(stateDir, "runs"), log),
            Audit = new JsonlAuditLog(Path.Combine(stateDir, "audit.jsonl")),
            Log = log,
            Runbooks = registry,
            PerformedBy = "tester",
        };
    }

    public static IReadOnlyList<RotationAuditRecord> Audit(string stateDir) =>
        [.. AuditLogReader.Read(Path.Combine(stateDir, "audit.jsonl"))];

    public static IReadOnlyDictionary<string, object> Inputs(FakeTarget target) => new Dictionary<string, object> { [FakeTarget.InputKey] = target };
}

/// <summary>The shim that stands for the outside world a run changes: it survives the simulated crash of the process.</summary>
internal sealed class FakeTarget
{
    public const string InputKey = "Target";

    public ConcurrentDictionary<string, string> State { get; } = new(StringComparer.Ordinal);

    /// <summary>How many times each step's effect actually happened (not: was checked and skipped).</summary>
    public ConcurrentDictionary<string, int> Applied { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Compensated { get; } = new(StringComparer.Ordinal);

    public List<string> Order { get; } = [];

    public static FakeTarget Initial()
    {
        var t = new FakeTarget();
        t.State["user:app-1"] = "active";
        t.State["current"] = "v1";
        return t;
    }

    public string Snapshot() => string.Join(";", State.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
}

/// <summary>A simulated kill of the process: nothing in the engine handles it.</summary>
internal sealed class SimulatedCrash : Exception
{
    public SimulatedCrash(string where) : base("simulated crash at " + where)
    {
    }
}

/// <summary>
/// A four-step rotation shaped like the real ones: create the new user, store the new value as pending, switch the
/// consumer to it, retire the old user. Each step checks the target before acting (idempotent) and counts the
/// effects it really made, so a test sees any step whose effect happened twice.
/// </summary>
internal sealed class SampleRunbook : IRunbook
{
    public const string KindName = "SampleRotation";

    public string Kind => KindName;

    public Func<string, Exception?>? FailStep { get; set; }

    public Func<string, Exception?>? FailCompensation { get; set; }

    public IReadOnlyList<IRunStep> CreateSteps(RotationRun run) =>
    [
        new SampleStep(this, "create-user", "user:app-2", "active", null),
        new SampleStep(this, "store-pending", "pending", "v2", null) { SetsVersionRef = true, HandlesSecret = true },
        new SampleStep(this, "switch-current", "current", "v2", "v1"),
        new SampleStep(this, "retire-old-user", "user:app-1", null, "active") { DowntimeSeconds = "0.5" },
    ];

    private sealed class SampleStep(SampleRunbook book, string name, string key, string? newValue, string? oldValue) : IRunStep
    {
        public string Name => name;

        public bool SetsVersionRef { get; init; }

        public bool HandlesSecret { get; init; }

        public string? DowntimeSeconds { get; init; }

        public Task ExecuteAsync(RunStepContext context, CancellationToken cancellationToken)
        {
            var target = context.Input<FakeTarget>(FakeTarget.InputKey);
            if (book.FailStep?.Invoke(name) is { } failure)
            {
                throw failure;
            }
            Converge(target, newValue, target.Applied, "do:");
            if (HandlesSecret && context.Inputs.TryGetValue("NewPassword", out var secret) && secret is RotationCredential credential)
            {
                context.SetRef("User", credential.UserName);
                context.SetRef(RunRefs.Fingerprint, Fingerprint.Of(SecureStrings.ToPlainText(credential.Password)));
            }
            if (SetsVersionRef)
            {
                context.SetRef("VersionId", newValue!);
            }
            if (DowntimeSeconds is not null)
            {
                context.SetRef(RunRefs.DowntimeSeconds, DowntimeSeconds);
            }
            return Task.CompletedTask;
        }

        public Task CompensateAsync(RunStepContext context, CancellationToken cancellationToken)
        {
            var target = context.Input<FakeTarget>(FakeTarget.InputKey);
            if (book.FailCompensation?.Invoke(name) is { } failure)
            {
                throw failure;
            }
            Converge(target, oldValue, target.Compensated, "undo:");
            return Task.CompletedTask;
        }

        // Check, then act: an effect that is already there is skipped and not counted.
        private void Converge(FakeTarget target, string? wanted, System.Collections.Concurrent.ConcurrentDictionary<string, int> counter, string label)
        {
            lock (target)
            {
                target.State.TryGetValue(key, out var now);
                if (now == wanted)
                {
                    return;
                }
                if (wanted is null)
                {
                    target.State.TryRemove(key, out _);
                }
                else
                {
                    target.State[key] = wanted;
                }
                counter.AddOrUpdate(name, 1, (_, n) => n + 1);
                target.Order.Add(label + name);
            }
        }
    }
}

internal sealed class CapturingLog : IRotationLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public IReadOnlyList<string> Warnings => [.. _lines.Where(l => l.StartsWith("WARNING: ", StringComparison.Ordinal))];

    public void Verbose(string message) => _lines.Enqueue("VERBOSE: " + message);

    public void Warning(string message) => _lines.Enqueue("WARNING: " + message);

    public void Progress(string activity, string status, int percentComplete) => _lines.Enqueue($"PROGRESS: {activity} {status} {percentComplete}");

    public string Text => string.Join("\n", _lines);
}

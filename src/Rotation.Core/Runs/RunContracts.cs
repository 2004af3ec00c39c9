using Rotation.Core.Audit;
using Rotation.Core.Stores;

namespace Rotation.Core.Runs;

/// <summary>
/// One step of a runbook. Execute must be idempotent: on resume after a crash inside the step it runs again, so it
/// checks what is already done (the refs it recorded, the target's state) and skips it. Compensate undoes a step
/// that is Done (or Started/Failed: partially done), again idempotently.
/// </summary>
public interface IRunStep
{
    string Name { get; }

    Task ExecuteAsync(RunStepContext context, CancellationToken cancellationToken);

    Task CompensateAsync(RunStepContext context, CancellationToken cancellationToken);
}

/// <summary>
/// Builds a run's steps from its journaled parameters, so any process (another pipeline agent) can resume or undo it.
/// </summary>
public interface IRunbook
{
    string Kind { get; }

    IReadOnlyList<IRunStep> CreateSteps(RotationRun run);
}

/// <summary>Durable storage of runs: the file journal in the state folder, or a store URI.</summary>
public interface IRunJournal
{
    /// <summary>Writes the whole run durably (atomic replace). Throws JournalWriteFailed.</summary>
    void Save(RotationRun run);

    /// <summary>Throws RunNotFound.</summary>
    RotationRun Load(string runId);

    IReadOnlyList<RotationRun> List();

    /// <summary>
    /// Takes an exclusive lock on a run for the life of the returned handle, so two processes never execute the
    /// same run at once. Throws RunLocked when another holder has it.
    /// </summary>
    IDisposable Lock(string runId);
}

/// <summary>Progress and diagnostics from the core; the cmdlet adapts it to WriteVerbose/WriteWarning/WriteProgress.
/// Never pass a secret value to it.</summary>
public interface IRotationLog
{
    void Verbose(string message);

    void Warning(string message);

    void Progress(string activity, string status, int percentComplete) { }
}

public sealed class NullRotationLog : IRotationLog
{
    public static readonly NullRotationLog Instance = new();

    public void Verbose(string message) { }

    public void Warning(string message) { }
}

/// <summary>What a step sees while it runs.</summary>
public sealed class RunStepContext
{
    public required RotationRun Run { get; init; }

    public required RunStepRecord Step { get; init; }

    public required RotationServices Services { get; init; }

    /// <summary>
    /// Secret inputs supplied by the caller for this execution (an admin credential, ...): never journaled, so a
    /// resume supplies them again. Keys are documented by each runbook.
    /// </summary>
    public required IReadOnlyDictionary<string, object> Inputs { get; init; }

    /// <summary>Records a reference for undo/resume and saves the journal at once (so a crash right after keeps it).</summary>
    public Action<string, string> SetRef { get; init; } = (_, _) => { };

    public string Parameter(string name) => Run.Parameters.TryGetValue(name, out var v)
        ? v
        : throw new InvalidOperationException($"Run {Run.RunId} has no parameter '{name}'.");

    public string? OptionalParameter(string name) => Run.Parameters.GetValueOrDefault(name);

    public T Input<T>(string name) where T : class => Inputs.TryGetValue(name, out var v) && v is T t
        ? t
        : throw Errors.Errors.InvalidArgument(name, $"Run {Run.RunId} needs the input '{name}' to continue; supply it again (it is never journaled).");

    /// <summary>A ClientRequestToken stable for this run and step, so a retried write never creates a second version.</summary>
    public string IdempotencyToken(string suffix = "") => RunIds.Token(Run.RunId, Step.Name + suffix);
}

/// <summary>Everything the core needs from its surroundings, built once per cmdlet call.</summary>
public sealed class RotationServices
{
    public required SecretStoreRegistry Stores { get; init; }
    public required StoreContext StoreContext { get; init; }
    public required IRunJournal Journal { get; init; }
    public required IAuditSink Audit { get; init; }

    /// <summary>The runbooks a resume or undo can rebuild steps from (by the run's Kind).</summary>
    public RunbookRegistry Runbooks { get; init; } = RunbookRegistry.CreateDefault();
    public IRotationLog Log { get; init; } = NullRotationLog.Instance;
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    public string PerformedBy { get; init; } = Environment.UserName;

    public ISecretStore OpenStore(string uri) => Stores.Open(uri, StoreContext);
}

public static class RunIds
{
    /// <summary>A sortable, readable run id: r-20261121T233000Z-1a2b3c4d.</summary>
    public static string New(TimeProvider clock) =>
        $"r-{clock.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}";

    /// <summary>A deterministic UUID-shaped token from run id and step (AWS ClientRequestToken takes 32-64 chars).</summary>
    public static string Token(string runId, string step)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runId + "\n" + step));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }
}

/// <summary>
/// Standard keys of the secret inputs a caller passes to StartAsync, ResumeAsync and UndoAsync (never journaled, so
/// a resume supplies them again). Resume-Rotation and Undo-Rotation pass their -Credential as
/// <see cref="AdminCredential"/>.
/// </summary>
public static class RunInputs
{
    /// <summary>A <see cref="Secrets.RotationCredential"/> with the rights to change the target (a database admin).</summary>
    public const string AdminCredential = "AdminCredential";

    /// <summary>The inputs Resume-Rotation and Undo-Rotation pass: the admin credential when one was given.</summary>
    public static IReadOnlyDictionary<string, object> Create(Secrets.RotationCredential? adminCredential)
    {
        var inputs = new Dictionary<string, object>(StringComparer.Ordinal);
        if (adminCredential is not null)
        {
            inputs[AdminCredential] = adminCredential;
        }
        return inputs;
    }
}

/// <summary>Run parameters the engine itself reads.</summary>
public static class RunParameters
{
    /// <summary>What kind of credential the run rotates (postgresql-password, redis-acl, jwt-hmac...): the audit's credential_type.</summary>
    public const string CredentialType = "CredentialType";
}

/// <summary>Step refs the engine copies into the audit log when a step records them.</summary>
public static class RunRefs
{
    /// <summary>Seconds of downtime the step caused (invariant-culture number): the audit's downtime_seconds.</summary>
    public const string DowntimeSeconds = "DowntimeSeconds";

    /// <summary>The fingerprint of the value the step wrote: the audit's fingerprint.</summary>
    public const string Fingerprint = "Fingerprint";
}

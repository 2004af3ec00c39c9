using Rotation.Core.Audit;
using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Postgres;

/// <summary>
/// The real foundation for one test: a state folder of its own with the file journal, the JSONL audit log and a
/// file store, and the run engine; plus a way to "kill the process" at a step boundary.
/// </summary>
internal sealed class PgRunHarness : IDisposable
{
    private readonly TempDirectory _dir = TestEnvironment.NewTempDirectory();

    public PgRunHarness()
    {
        Log = new CapturingLog();
        var env = Env;
        Services = new RotationServices
        {
            Stores = SecretStoreRegistry.CreateDefault(),
            StoreContext = new StoreContext { GetEnvironmentVariable = env },
            Journal = new FileRunJournal(RotationPaths.JournalDirectory(env), Log),
            Audit = JsonlAuditLog.FromEnvironment(env),
            Log = Log,
        };
        SecretUri = $"file://{_dir.File("secrets.json")}#db";
    }

    public Func<string, string?> Env => name => name == RotationPaths.StateDirVariable ? _dir.Path : null;

    public CapturingLog Log { get; }

    public RotationServices Services { get; }

    public string SecretUri { get; }

    public string StateDirectory => _dir.Path;

    public Task<DbUserRotation> RotateAsync(DbRotationRequest request) => DbUserRotator.InvokeAsync(request, Services, CancellationToken.None);

    /// <summary>Starts a run and "crashes" at <paramref name="checkpoint"/> of <paramref name="step"/>; returns the journaled run.</summary>
    public async Task<RotationRun> CrashAsync(DbRotationRequest request, RunCheckpoint checkpoint, string step)
    {
        var engine = new RunEngine(Services) { Checkpoint = (c, s) => { if (c == checkpoint && s == step) { throw new SimulatedCrash(); } } };
        await Assert.ThrowsAsync<SimulatedCrash>(() => engine.StartAsync(new DbUserRotationRunbook(), request.User,
            DbUserRotator.RunParameters(request, Env), DbUserRotator.RunInputs(request.Connection)));
        return Assert.Single(Services.Journal.List());
    }

    public Task<RotationRun> ResumeAsync(string runId, RotationCredential admin) =>
        new RunEngine(Services).ResumeAsync(runId, new Dictionary<string, object> { [RunInputs.AdminCredential] = admin });

    public Task<RotationRun> UndoAsync(string runId, RotationCredential admin) =>
        new RunEngine(Services).UndoAsync(runId, new Dictionary<string, object> { [RunInputs.AdminCredential] = admin });

    public ISecretStore Store(string uri) => Services.OpenStore(uri);

    public async Task SeedCurrentAsync(RotationCredential login) =>
        await Store(SecretUri).PutAsync(DbCredentialShape.Write(login.UserName, SecureStrings.ToPlainText(login.Password)), SecretStage.Current, new SecretWriteOptions());

    /// <summary>Journal and audit files (the store file holds the secrets by design and is left out).</summary>
    public IEnumerable<(string Name, string Text)> StateFiles() =>
        LeakAssert.FilesUnder(_dir.Path).Where(f => !f.Name.EndsWith("secrets.json", StringComparison.Ordinal));

    public void Dispose() => _dir.Dispose();

    private sealed class SimulatedCrash : Exception;
}

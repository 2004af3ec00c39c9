using Rotation.Core.Errors;
using Rotation.Core.Redis;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Redis;

/// <summary>
/// The rotation as a journaled run on the real foundation (file store, file journal, JSONL audit log in a temp
/// state folder): crash and resume, undo after success, and the evidence left on disk.
/// </summary>
public sealed class RedisRunTests : IDisposable
{
    private readonly RedisTestServer _server = new();
    private readonly TempDirectory _state = new();

    public void Dispose() => _state.Dispose();

    private Func<string, string?> Env => name => name switch
    {
        RotationPaths.StateDirVariable => _state.Path,
        RotationPaths.AuditLogVariable => _state.File("audit.jsonl"),
        _ => Environment.GetEnvironmentVariable(name),
    };

    private RotationServices Services() => RotationEnvironment.CreateServices(NullRotationLog.Instance, Env);

    private Dictionary<string, object> Inputs => new() { [RedisAclRunbook.AdminCredentialInput] = _server.Admin };

    private async Task<string> StoredPasswordAsync(string uri, SecretStage stage) =>
        (await Services().OpenStore(uri).GetAsync(stage)).Value.GetField("password", uri);

    [Fact]
    public async Task The_file_pipeline_publishes_a_user_password_document_and_leaves_no_secret_on_disk()
    {
        var user = RedisTestServer.UniqueName("filerun");
        var old = await _server.CreateUserAsync(user, ["~*", "+@all"]);
        var uri = $"file://{_state.File("secrets.json")}#redis-{user}";
        try
        {
            var result = await RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = [_server.Endpoint],
                User = user,
                AdminCredential = _server.Admin,
                Uri = uri,
            }, Services());
            var current = (await Services().OpenStore(uri).GetAsync(SecretStage.Current)).Value;
            Assert.Equal(user, current.GetField("username", uri));
            Assert.Equal(SecureStrings.ToPlainText(result.Credential.Password), current.GetField("password", uri));
            var run = Services().Journal.Load(result.RunId);
            Assert.Equal(RunStatus.Succeeded, run.Status);
            Assert.Equal("redis-acl", run.Parameters[RunParameters.CredentialType]);
            var audit = await File.ReadAllTextAsync(_state.File("audit.jsonl"));
            Assert.Contains("\"run.succeeded\"", audit, StringComparison.Ordinal);
            Assert.Contains(result.Fingerprint, audit, StringComparison.Ordinal);
            // The journal, audit log and state folder hold neither password nor full hash (the secrets document itself is the store).
            LeakAssert.NoneOf(
                [SecureStrings.ToPlainText(old.Password), SecureStrings.ToPlainText(result.Credential.Password),
                 RedisPasswordHash.Of(SecureStrings.ToPlainText(result.Credential.Password)), RedisPasswordHash.Of(SecureStrings.ToPlainText(old.Password))],
                LeakAssert.FilesUnder(_state.Path).Where(f => !f.Name.EndsWith("secrets.json", StringComparison.Ordinal)));

            // Retire by run id alone: the journal has everything but secrets, and that is enough.
            var retire = RedisRetireRequest.FromRun(Services().Journal.Load(result.RunId), _server.Admin, TimeSpan.Zero, force: false);
            Assert.Equal(1, (await RedisCredentialRetirer.RetireAsync(retire, Services())).Removed);
            Assert.True((await RedisCredentialChecks.TestAsync([_server.Endpoint], old, expectFailure: true)).Success);
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Theory]
    [InlineData(RedisAclStrategy.DualPassword, "StorePending")]
    [InlineData(RedisAclStrategy.DualPassword, "ApplyAcl")]
    [InlineData(RedisAclStrategy.NewUser, "ApplyAcl")]
    [InlineData(RedisAclStrategy.NewUser, "VerifyLogin")]
    public async Task A_run_killed_after_a_step_resumes_in_another_process_with_the_password_from_the_store(RedisAclStrategy strategy, string killedAfter)
    {
        var user = RedisTestServer.UniqueName("resume");
        var old = await _server.CreateUserAsync(user, ["~*", "+@all"]);
        var uri = $"file://{_state.File("secrets.json")}#{user}";
        try
        {
            var request = new RedisAclRotationRequest { Endpoints = [_server.Endpoint], User = user, AdminCredential = _server.Admin, Strategy = strategy, Uri = uri };
            var crashing = new RunEngine(Services())
            {
                Checkpoint = (point, step) =>
                {
                    if (point == RunCheckpoint.StepJournaled && step == killedAfter)
                    {
                        throw new ProcessKilled();
                    }
                },
            };
            await Assert.ThrowsAsync<ProcessKilled>(() => crashing.StartAsync(new RedisAclRunbook(), $"{user}@test", RedisAclRunbook.Parameters(request), Inputs));
            var runId = Services().Journal.List().Single(r => r.Target == $"{user}@test").RunId;
            // While the run is interrupted the old login works and the new password is Pending in the store.
            Assert.True((await RedisCredentialChecks.TestAsync([_server.Endpoint], old, false)).Success);
            var pending = await StoredPasswordAsync(uri, SecretStage.Pending);

            // Another process: a fresh engine and runbook with no memory of the password.
            var run = await new RunEngine(Services()).ResumeAsync(runId, Inputs);
            Assert.Equal(RunStatus.Succeeded, run.Status);
            var newUser = run.Step("Preflight")!.Refs["NewUser"];
            Assert.Equal(pending, await StoredPasswordAsync(uri, SecretStage.Current));
            Assert.True((await RedisCredentialChecks.TestAsync([_server.Endpoint], RotationCredential.FromPlainText(newUser, pending), false)).Success);
            Assert.True((await RedisCredentialChecks.TestAsync([_server.Endpoint], old, false)).Success);
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Theory]
    [InlineData(RedisAclStrategy.DualPassword)]
    [InlineData(RedisAclStrategy.NewUser)]
    public async Task Undo_after_success_removes_the_new_credential_and_restores_the_store(RedisAclStrategy strategy)
    {
        var user = RedisTestServer.UniqueName("undo");
        var old = await _server.CreateUserAsync(user, ["~*", "+@all"]);
        var uri = $"file://{_state.File("secrets.json")}#{user}";
        try
        {
            await Services().OpenStore(uri).PutAsync(SecretValue.FromFields(new Dictionary<string, string> { ["username"] = user, ["password"] = SecureStrings.ToPlainText(old.Password) }),
                SecretStage.Current, new SecretWriteOptions());
            var result = await RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = [_server.Endpoint],
                User = user,
                AdminCredential = _server.Admin,
                Strategy = strategy,
                Uri = uri,
            }, Services());
            var run = await new RunEngine(Services()).UndoAsync(result.RunId, Inputs);
            Assert.Equal(RunStatus.Undone, run.Status);
            Assert.False((await RedisCredentialChecks.TestAsync([_server.Endpoint], result.Credential, false)).Success);
            Assert.True((await RedisCredentialChecks.TestAsync([_server.Endpoint], old, false)).Success);
            Assert.Equal(SecureStrings.ToPlainText(old.Password), await StoredPasswordAsync(uri, SecretStage.Current));
            await using var admin = await _server.AdminAsync();
            Assert.Single((await admin.AclGetUserAsync(user))!.PasswordHashes);
            Assert.Null(await admin.AclGetUserAsync(user + "_v2"));
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Fact]
    public async Task Resuming_without_a_store_says_to_undo_instead()
    {
        var user = RedisTestServer.UniqueName("nostore");
        await _server.CreateUserAsync(user, ["~*", "+@all"]);
        try
        {
            var request = new RedisAclRotationRequest { Endpoints = [_server.Endpoint], User = user, AdminCredential = _server.Admin };
            var crashing = new RunEngine(Services()) { Checkpoint = (p, s) => { if (p == RunCheckpoint.StepJournaled && s == "ApplyAcl") { throw new ProcessKilled(); } } };
            await Assert.ThrowsAsync<ProcessKilled>(() => crashing.StartAsync(new RedisAclRunbook(), $"{user}@test", RedisAclRunbook.Parameters(request), Inputs));
            var runId = Services().Journal.List().Single(r => r.Target == $"{user}@test").RunId;
            var ex = await Assert.ThrowsAsync<RotationException>(() => new RunEngine(Services()).ResumeAsync(runId, Inputs));
            Assert.Equal(RotationErrorIds.RunNotResumable, ex.ErrorId);
            Assert.Contains("Undo-Rotation", ex.Message, StringComparison.Ordinal);
            await new RunEngine(Services()).UndoAsync(runId, Inputs);
            await using var admin = await _server.AdminAsync();
            Assert.Single((await admin.AclGetUserAsync(user))!.PasswordHashes);
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    private sealed class ProcessKilled : Exception;
}

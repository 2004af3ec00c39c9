using System.Diagnostics;
using Rotation.Core.Errors;
using Rotation.Core.Redis;
using Rotation.Core.Secrets;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Redis;

/// <summary>Rotations against the real Redis 7 server, with application clients logging in throughout.</summary>
public sealed class RedisRotationTests
{
    private readonly RedisTestServer _server = new();

    private static readonly string[] AppRules = ["~config:*", "%R~ro:*", "&chan", "-@all", "+subscribe", "+get", "+ping", "(~sel:* +set)"];

    private RedisAclRotationRequest Request(string user, RedisAclStrategy strategy, string? uri = null, RotationCredential? admin = null, params RedisEndpoint[] endpoints) => new()
    {
        Endpoints = endpoints.Length == 0 ? [_server.Endpoint] : endpoints,
        User = user,
        AdminCredential = admin ?? _server.Admin,
        Strategy = strategy,
        Uri = uri,
    };

    private static bool LoginWorks(RedisEndpoint endpoint, RotationCredential credential)
    {
        try
        {
            using var c = RedisConnection.ConnectAsync(endpoint, credential).GetAwaiter().GetResult();
            c.PingAsync().GetAwaiter().GetResult();
            return true;
        }
        catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.RedisAuthenticationFailed)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<string>> HashesAsync(string user, RedisEndpoint? endpoint = null)
    {
        await using var admin = await _server.AdminAsync(endpoint);
        return (await admin.AclGetUserAsync(user))?.PasswordHashes ?? [];
    }

    [Fact]
    public async Task DualPassword_rotates_with_zero_failed_logins_and_retires_the_old_password()
    {
        var sw = Stopwatch.StartNew();
        var user = RedisTestServer.UniqueName("dual");
        var old = await _server.CreateUserAsync(user, AppRules);
        var env = new TestRotationServices();
        var uri = $"file:///tmp/{user}.json#redis";
        // Ordering proof: when the new password reaches the store as Pending the server must not accept it yet;
        // when it becomes Current the server must accept it.
        var observed = new List<string>();
        env.Stores.Observer = (e, v) => observed.Add($"{e}:{LoginWorks(_server.Endpoint, RotationCredential.FromPlainText(user, v.GetField("password", uri)))}");
        RotationCredential? rotated = null;
        try
        {
            await using var load = new RedisLoginLoad([_server.Endpoint], 6, i => i % 2 == 0 ? old : rotated ?? old);
            await load.WarmUpAsync();
            var result = await RedisAclRotator.RotateAsync(Request(user, RedisAclStrategy.DualPassword, uri), env.Build());
            rotated = result.Credential;
            await load.WarmUpAsync();
            await load.StopAsync();

            Assert.True(load.Attempts > 40, $"only {load.Attempts} login attempts ran");
            Assert.True(load.Failures == 0, $"{load.Failures} of {load.Attempts} logins failed: {string.Join(", ", load.SampleErrors)}");
            Assert.Equal(["put Pending:False", "complete:True"], observed);
            Assert.Equal((user, user, user), (result.User, result.PreviousUser, result.NewUser));
            Assert.Equal(RedisPersistence.AclSave, result.Persistence);
            Assert.Equal(uri, result.SecretUri);
            Assert.True(LoginWorks(_server.Endpoint, old));
            Assert.True(LoginWorks(_server.Endpoint, result.Credential));
            Assert.Equal(2, (await HashesAsync(user)).Count);
            // ACL SAVE wrote the new password's hash to the ACL file.
            Assert.Contains(RedisPasswordHash.Of(SecureStrings.ToPlainText(result.Credential.Password)),
                await File.ReadAllTextAsync(TestEnvironment.Require("ROTATION_TEST_REDIS_ACLFILE")), StringComparison.Ordinal);

            var early = await Assert.ThrowsAsync<RotationException>(() =>
                RedisCredentialRetirer.RetireAsync(RedisRetireRequest.From(result, _server.Admin, TimeSpan.FromMinutes(15), force: false), env.Build()));
            Assert.Equal(RotationErrorIds.GracePeriodNotElapsed, early.ErrorId);
            Assert.True(LoginWorks(_server.Endpoint, old));

            var retired = await RedisCredentialRetirer.RetireAsync(RedisRetireRequest.From(result, _server.Admin, TimeSpan.Zero, force: false), env.Build());
            Assert.Equal(1, retired.Removed);
            Assert.Contains(env.AuditRecords, a => a.Event == "credential.retired" && a.Success && a.RunId == result.RunId);
            Assert.False(LoginWorks(_server.Endpoint, old));
            Assert.True(LoginWorks(_server.Endpoint, result.Credential));
            Assert.Equal([RedisPasswordHash.Of(SecureStrings.ToPlainText(result.Credential.Password))], await HashesAsync(user));

            // Retiring again is a no-op, not an error.
            Assert.Equal(0, (await RedisCredentialRetirer.RetireAsync(RedisRetireRequest.From(result, _server.Admin, TimeSpan.Zero, false), env.Build())).Removed);

            var journal = Assert.Single(env.Journal.Runs);
            Assert.Equal(["Preflight", "StorePending", "ApplyAcl", "VerifyLogin", "Persist", "PublishCurrent"], journal.Steps.Select(s => s.Name));
            Assert.Equal(result.Fingerprint, journal.Step("StorePending")!.Refs["Fingerprint"]);
            LeakAssert.NoneOf([SecureStrings.ToPlainText(old.Password), SecureStrings.ToPlainText(result.Credential.Password)],
                env.Captured().Append(("result", result.ToString())).Append(("credential", result.Credential.ToString())));
            // Nor the full hashes: the journal keeps 12-digit fingerprints only.
            LeakAssert.NoneOf([RedisPasswordHash.Of(SecureStrings.ToPlainText(old.Password)), RedisPasswordHash.Of(SecureStrings.ToPlainText(result.Credential.Password))], env.Captured());
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task NewUser_clones_every_rule_with_zero_failed_logins_then_retires_the_old_user()
    {
        var sw = Stopwatch.StartNew();
        var user = RedisTestServer.UniqueName("clone");
        var old = await _server.CreateUserAsync(user, AppRules);
        var env = new TestRotationServices();
        RotationCredential? rotated = null;
        try
        {
            RedisAclRotation result;
            await using (var load = new RedisLoginLoad([_server.Endpoint], 6, i => rotated ?? old))
            {
                await load.WarmUpAsync();
                result = await RedisAclRotator.RotateAsync(Request(user, RedisAclStrategy.NewUser), env.Build());
                rotated = result.Credential;
                await load.WarmUpAsync();
                await load.StopAsync();
                Assert.True(load.Failures == 0, $"{load.Failures} of {load.Attempts} logins failed: {string.Join(", ", load.SampleErrors)}");
            }
            Assert.Equal((user, user, user + "_v2"), (result.User, result.PreviousUser, result.NewUser));
            Assert.Equal(user + "_v2", result.Credential.UserName);
            await using (var admin = await _server.AdminAsync())
            {
                var a = (await admin.AclGetUserAsync(user))!;
                var b = (await admin.AclGetUserAsync(user + "_v2"))!;
                Assert.Equal(a.RuleSignature(), b.RuleSignature());
                Assert.Equal("~config:* %R~ro:*", b.Keys);
                Assert.Single(b.Selectors);
                Assert.Equal([RedisPasswordHash.Of(SecureStrings.ToPlainText(result.Credential.Password))], b.PasswordHashes);
            }

            // A client still logged in as the old user blocks retirement, unless forced (which disconnects it).
            await using var straggler = await RedisConnection.ConnectAsync(_server.Endpoint, old);
            var clients = await RedisCredentialChecks.ListClientsAsync([_server.Endpoint], _server.Admin, user);
            Assert.Single(clients);
            var busy = await Assert.ThrowsAsync<RotationException>(() =>
                RedisCredentialRetirer.RetireAsync(RedisRetireRequest.From(result, _server.Admin, TimeSpan.Zero, force: false), env.Build()));
            Assert.Equal(RotationErrorIds.RedisClientsStillConnected, busy.ErrorId);
            Assert.True(LoginWorks(_server.Endpoint, old));

            var retired = await RedisCredentialRetirer.RetireAsync(RedisRetireRequest.From(result, _server.Admin, TimeSpan.Zero, force: true), env.Build());
            Assert.Equal(1, retired.ClientsKilled);
            Assert.False(LoginWorks(_server.Endpoint, old));
            Assert.True(LoginWorks(_server.Endpoint, result.Credential));
            await Assert.ThrowsAsync<RotationException>(() => straggler.PingAsync());

            // The next rotation of the new user makes _v3.
            var next = await RedisAclRotator.RotateAsync(Request(result.NewUser, RedisAclStrategy.NewUser), env.Build());
            Assert.Equal(user + "_v3", next.NewUser);
            LeakAssert.NoneOf([SecureStrings.ToPlainText(old.Password), SecureStrings.ToPlainText(result.Credential.Password), SecureStrings.ToPlainText(next.Credential.Password)], env.Captured());
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task A_wrong_admin_password_changes_nothing()
    {
        var user = RedisTestServer.UniqueName("badadmin");
        await _server.CreateUserAsync(user, AppRules);
        try
        {
            var before = await HashesAsync(user);
            var wrong = RotationCredential.FromPlainText(_server.Admin.UserName, "wrong-" + Guid.NewGuid());
            var env = new TestRotationServices();
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(Request(user, RedisAclStrategy.DualPassword, $"file:///tmp/{user}.json#r", wrong), env.Build()));
            Assert.Equal(RotationErrorIds.RedisAuthenticationFailed, ex.ErrorId);
            Assert.Equal(before, await HashesAsync(user));
            Assert.Empty(env.Stores.Events);
            LeakAssert.NoneOf([SecureStrings.ToPlainText(wrong.Password)], env.Captured().Append(("message", ex.Message)));
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Fact]
    public async Task An_admin_without_acl_permission_gets_a_clear_error_and_nothing_changes()
    {
        var user = RedisTestServer.UniqueName("noperm");
        var weakAdmin = RedisTestServer.UniqueName("noperm_admin");
        await _server.CreateUserAsync(user, AppRules);
        var admin = await _server.CreateUserAsync(weakAdmin, ["~*", "&*", "+@all", "-@admin"]);
        try
        {
            var before = await HashesAsync(user);
            foreach (var strategy in Enum.GetValues<RedisAclStrategy>())
            {
                var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(Request(user, strategy, $"file:///tmp/{user}.json#r", admin), new TestRotationServices().Build()));
                Assert.Equal(RotationErrorIds.RedisPermissionDenied, ex.ErrorId);
                Assert.Contains("NOPERM", ex.Message, StringComparison.Ordinal);
            }
            Assert.Equal(before, await HashesAsync(user));
            await using var a = await _server.AdminAsync();
            Assert.DoesNotContain(await a.AclListAsync(), l => l.Contains(user + "_v", StringComparison.Ordinal));
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
            await _server.DeleteUsersAsync(weakAdmin);
        }
    }

    [Fact]
    public async Task RequirePass_without_a_store_is_refused_before_anything_changes()
    {
        var env = new TestRotationServices();
        var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(Request("", RedisAclStrategy.RequirePass), env.Build()));
        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
        Assert.Equal("Uri", ex.TargetName);
        Assert.Empty(env.Journal.Runs);
    }

    [Fact]
    public async Task DualPassword_refuses_a_nopass_user_because_adding_a_password_would_lock_its_clients_out()
    {
        var user = RedisTestServer.UniqueName("nopass");
        await using var admin = await _server.AdminAsync();
        await admin.AclSetUserAsync(user, ["reset", "on", "nopass", "~*", "+@all"]);
        try
        {
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(Request(user, RedisAclStrategy.DualPassword), new TestRotationServices().Build()));
            Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
            Assert.Contains("NewUser", ex.Message, StringComparison.Ordinal);
            Assert.Contains("nopass", (await admin.AclGetUserAsync(user))!.Flags);
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Fact]
    public async Task An_unknown_user_is_RedisUserNotFound()
    {
        var user = RedisTestServer.UniqueName("ghost");
        foreach (var strategy in new[] { RedisAclStrategy.DualPassword, RedisAclStrategy.NewUser })
        {
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(Request(user, strategy), new TestRotationServices().Build()));
            Assert.Equal(RotationErrorIds.RedisUserNotFound, ex.ErrorId);
            Assert.Equal(user, ex.TargetName);
        }
        await using var a = await _server.AdminAsync();
        Assert.DoesNotContain(await a.AclListAsync(), l => l.Contains(user, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_node_stops_the_rotation_before_any_node_changes()
    {
        var user = RedisTestServer.UniqueName("unreach");
        await _server.CreateUserAsync(user, AppRules);
        try
        {
            var before = await HashesAsync(user);
            var env = new TestRotationServices();
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(
                Request(user, RedisAclStrategy.DualPassword, $"file:///tmp/{user}.json#r", null, _server.Endpoint, _server.Unreachable), env.Build()));
            Assert.Equal(RotationErrorIds.RedisUnreachable, ex.ErrorId);
            Assert.Contains(_server.Unreachable.ToString(), ex.Message, StringComparison.Ordinal);
            Assert.Equal(before, await HashesAsync(user));
            Assert.Empty(env.Stores.Events);
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Fact]
    public async Task A_pending_lease_of_another_run_refuses_before_the_server_changes()
    {
        var user = RedisTestServer.UniqueName("lease");
        await _server.CreateUserAsync(user, AppRules);
        try
        {
            var env = new TestRotationServices();
            var uri = $"file:///tmp/{user}.json#r";
            await env.Stores.Registry.Open(uri).PutAsync(SecretValue.FromText("x"), Core.Stores.SecretStage.Pending, new Core.Stores.SecretWriteOptions { RunId = "r-other" });
            var before = await HashesAsync(user);
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(Request(user, RedisAclStrategy.DualPassword, uri), env.Build()));
            Assert.Equal(RotationErrorIds.RotationInProgress, ex.ErrorId);
            Assert.Equal(before, await HashesAsync(user));
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }

    [Fact]
    public async Task Test_credential_reports_success_failure_and_expected_failure()
    {
        var user = RedisTestServer.UniqueName("test");
        var login = await _server.CreateUserAsync(user, AppRules);
        try
        {
            var ok = await RedisCredentialChecks.TestAsync([_server.Endpoint], login, expectFailure: false);
            Assert.True(ok.Success);
            var wrong = RotationCredential.FromPlainText(user, "nope-" + Guid.NewGuid());
            var bad = await RedisCredentialChecks.TestAsync([_server.Endpoint], wrong, expectFailure: false);
            Assert.False(bad.Success);
            Assert.Equal(RotationErrorIds.RedisAuthenticationFailed, bad.ErrorId);
            Assert.True((await RedisCredentialChecks.TestAsync([_server.Endpoint], wrong, expectFailure: true)).Success);
            Assert.False((await RedisCredentialChecks.TestAsync([_server.Endpoint], login, expectFailure: true)).Success);
            // Unreachable is never proof that a login fails.
            var down = await RedisCredentialChecks.TestAsync([_server.Unreachable], wrong, expectFailure: true);
            Assert.False(down.Success);
            Assert.Equal(RotationErrorIds.RedisUnreachable, down.ErrorId);
            LeakAssert.NoneOf([SecureStrings.ToPlainText(login.Password)], [("reason", ok.Reason + bad.Reason + down.Reason)]);
        }
        finally
        {
            await _server.DeleteUsersAsync(user);
        }
    }
}

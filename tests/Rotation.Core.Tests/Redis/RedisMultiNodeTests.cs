using Rotation.Core.Errors;
using Rotation.Core.Redis;
using Rotation.Core.Secrets;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Redis;

/// <summary>
/// Four extra nodes this class owns, on BASE+5..BASE+8 of the servers.sh port block: two with ACL files, one with a
/// config file, one memory-only over TLS.
/// </summary>
public sealed class RedisNodesFixture : IAsyncLifetime
{
    public RedisTestServer Server { get; } = new();

    public int AclA => Server.BlockPort(5);

    public int AclB => Server.BlockPort(6);

    public int Conf => Server.BlockPort(7);

    public int Tls => Server.BlockPort(8);

    public RedisExtraNodes Nodes { get; private set; } = null!;

    public RedisEndpoint Endpoint(int port) => new("127.0.0.1", port);

    public RedisConnectionOptions TlsOptions => new() { Tls = true, CaFile = Nodes.CaFile, ServerName = "redis.test" };

    public async Task InitializeAsync()
    {
        Nodes = new RedisExtraNodes(Server.Admin, (AclA, NodeConfig.AclFile), (AclB, NodeConfig.AclFile), (Conf, NodeConfig.ConfigFile), (Tls, NodeConfig.TlsMemoryOnly));
        await Nodes.WaitReadyAsync(Server.Admin, TlsOptions);
    }

    public async Task DisposeAsync() => await Nodes.DisposeAsync();
}

public sealed class RedisMultiNodeTests(RedisNodesFixture f) : IClassFixture<RedisNodesFixture>
{
    private static readonly string[] AppRules = ["~app:*", "&*", "-@all", "+get", "+set", "+ping"];

    private RedisEndpoint[] ThreeNodes => [f.Endpoint(f.AclA), f.Endpoint(f.AclB), f.Endpoint(f.Conf)];

    private async Task<IReadOnlyList<string>> HashesAsync(RedisEndpoint e, string user)
    {
        await using var a = await RedisConnection.ConnectAsync(e, f.Server.Admin);
        return (await a.AclGetUserAsync(user))?.PasswordHashes ?? [];
    }

    [Fact]
    public async Task DualPassword_on_three_nodes_changes_each_one_with_zero_failed_logins()
    {
        var user = RedisTestServer.UniqueName("multi");
        var old = await f.Server.CreateUserAsync(user, AppRules, ThreeNodes);
        RotationCredential? rotated = null;
        try
        {
            var env = new TestRotationServices();
            await using var load = new RedisLoginLoad(ThreeNodes, 6, i => i % 2 == 0 ? old : rotated ?? old);
            await load.WarmUpAsync();
            var result = await RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = ThreeNodes,
                User = user,
                AdminCredential = f.Server.Admin,
                Uri = $"file:///tmp/{user}.json#r",
            }, env.Build());
            rotated = result.Credential;
            await load.WarmUpAsync();
            await load.StopAsync();
            Assert.True(load.Failures == 0, $"{load.Failures} of {load.Attempts} logins failed: {string.Join(", ", load.SampleErrors)}");
            Assert.Equal(ThreeNodes.Select(e => e.ToString()), result.Endpoint);
            // The weakest persistence of the three: two ACL files and one config file.
            Assert.Equal(RedisPersistence.ConfigRewrite, result.Persistence);
            var hash = RedisPasswordHash.Of(SecureStrings.ToPlainText(result.Credential.Password));
            foreach (var e in ThreeNodes)
            {
                Assert.Contains(hash, await HashesAsync(e, user));
            }
            Assert.Contains(hash, await File.ReadAllTextAsync(f.Nodes.AclFile(f.AclB)), StringComparison.Ordinal);
            Assert.Contains(hash, await File.ReadAllTextAsync(f.Nodes.ConfigFile(f.Conf)), StringComparison.Ordinal);

            await RedisCredentialRetirer.RetireAsync(RedisRetireRequest.From(result, f.Server.Admin, TimeSpan.Zero, false), env.Build());
            Assert.True((await RedisCredentialChecks.TestAsync(ThreeNodes, old, expectFailure: true)).Success);
            Assert.True((await RedisCredentialChecks.TestAsync(ThreeNodes, result.Credential, expectFailure: false)).Success);
        }
        finally
        {
            await f.Server.DeleteUsersAsync(user, ThreeNodes);
        }
    }

    [Fact]
    public async Task Nodes_whose_rules_differ_are_reported_and_left_alone()
    {
        var user = RedisTestServer.UniqueName("diverge");
        await f.Server.CreateUserAsync(user, AppRules, f.Endpoint(f.AclA));
        await f.Server.CreateUserAsync(user, ["~other:*", "+@all"], f.Endpoint(f.AclB));
        try
        {
            var before = await HashesAsync(f.Endpoint(f.AclA), user);
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = [f.Endpoint(f.AclA), f.Endpoint(f.AclB)],
                User = user,
                AdminCredential = f.Server.Admin,
            }, new TestRotationServices().Build()));
            Assert.Equal(RotationErrorIds.RedisNodesDiverged, ex.ErrorId);
            Assert.Contains(f.Endpoint(f.AclB).ToString(), ex.Message, StringComparison.Ordinal);
            Assert.Contains("keys", ex.Message, StringComparison.Ordinal);
            Assert.Equal(before, await HashesAsync(f.Endpoint(f.AclA), user));
        }
        finally
        {
            await f.Server.DeleteUsersAsync(user, f.Endpoint(f.AclA), f.Endpoint(f.AclB));
        }
    }

    [Theory]
    [InlineData(RedisAclStrategy.DualPassword)]
    [InlineData(RedisAclStrategy.NewUser)]
    public async Task A_node_that_refuses_the_change_rolls_back_the_nodes_already_changed(RedisAclStrategy strategy)
    {
        var user = RedisTestServer.UniqueName("half");
        var rootName = RedisTestServer.UniqueName("root");
        RedisEndpoint a = f.Endpoint(f.AclA), b = f.Endpoint(f.AclB);
        await f.Server.CreateUserAsync(user, AppRules, a, b);
        var root = await f.Server.CreateUserAsync(rootName, ["~*", "&*", "+@all"], a, b);
        try
        {
            // On the second node the rotating admin may read ACLs but not change them: the first node changes, the second refuses.
            await using (var admin = await RedisConnection.ConnectAsync(b, f.Server.Admin))
            {
                await admin.AclSetUserAsync(rootName, ["-acl|setuser"]);
            }
            var before = await HashesAsync(a, user);
            var env = new TestRotationServices();
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = [a, b],
                User = user,
                AdminCredential = root,
                Strategy = strategy,
                Uri = $"file:///tmp/{user}.json#r",
            }, env.Build()));
            Assert.Equal(RotationErrorIds.RedisPermissionDenied, ex.ErrorId);
            Assert.Contains("rolled back", ex.Message, StringComparison.Ordinal);
            Assert.Equal(before, await HashesAsync(a, user));
            Assert.Empty(await HashesAsync(a, user + "_v2"));
            await using var check = await RedisConnection.ConnectAsync(a, f.Server.Admin);
            Assert.Null(await check.AclGetUserAsync(user + "_v2"));
            // The store's pending lease was released: a new rotation may start.
            Assert.Equal(["put Pending", "cancel"], env.Stores.Events);
            LeakAssert.NoneOf([SecureStrings.ToPlainText(root.Password)], env.Captured().Append(("message", ex.Message)));
        }
        finally
        {
            await f.Server.DeleteUsersAsync(user, a, b);
            await f.Server.DeleteUsersAsync(rootName, a, b);
        }
    }

    [Fact]
    public async Task A_RequirePass_node_that_refuses_puts_the_old_password_back_on_the_nodes_already_changed()
    {
        var rootName = RedisTestServer.UniqueName("rproot");
        RedisEndpoint a = f.Endpoint(f.AclA), b = f.Endpoint(f.AclB);
        var oldPassword = SecretGenerator.NewPassword();
        var root = await f.Server.CreateUserAsync(rootName, ["~*", "&*", "+@all"], a, b);
        foreach (var e in new[] { a, b })
        {
            await using var admin = await RedisConnection.ConnectAsync(e, f.Server.Admin);
            await admin.AclSetUserAsync("default", ["reset", "on", ">" + oldPassword, "~*", "&*", "+@all"], [oldPassword]);
            if (e == b)
            {
                await admin.AclSetUserAsync(rootName, ["-config|set"]);
            }
        }
        var old = RotationCredential.FromPlainText("default", oldPassword);
        try
        {
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = [a, b],
                User = "",
                AdminCredential = root,
                Strategy = RedisAclStrategy.RequirePass,
                Uri = "file:///tmp/rp.json#default",
            }, new TestRotationServices().Build()));
            Assert.Equal(RotationErrorIds.RedisPermissionDenied, ex.ErrorId);
            Assert.Contains("rolled back", ex.Message, StringComparison.Ordinal);
            Assert.True((await RedisCredentialChecks.TestAsync([a, b], old, expectFailure: false)).Success);
            Assert.Equal([RedisPasswordHash.Of(oldPassword)], await HashesAsync(a, "default"));
        }
        finally
        {
            foreach (var e in new[] { a, b })
            {
                await using var admin = await RedisConnection.ConnectAsync(e, f.Server.Admin);
                await admin.AclSetUserAsync("default", ["reset", "off"]);
            }
            await f.Server.DeleteUsersAsync(rootName, a, b);
        }
    }

    [Fact]
    public async Task Tls_with_a_ca_file_checks_the_name_and_the_chain()
    {
        var tls = f.Endpoint(f.Tls);
        await using (var ok = await RedisConnection.ConnectAsync(tls, f.Server.Admin, f.TlsOptions))
        {
            await ok.PingAsync();
        }
        // The IP address is in the certificate too.
        await using (var byIp = await RedisConnection.ConnectAsync(tls, f.Server.Admin, new RedisConnectionOptions { Tls = true, CaFile = f.Nodes.CaFile }))
        {
            await byIp.PingAsync();
        }
        var untrusted = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(tls, f.Server.Admin, new RedisConnectionOptions { Tls = true, ServerName = "redis.test" }));
        Assert.Equal(RotationErrorIds.RedisTlsFailed, untrusted.ErrorId);
        var wrongName = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(tls, f.Server.Admin, f.TlsOptions is var o ? new RedisConnectionOptions { Tls = true, CaFile = o.CaFile, ServerName = "other.test" } : null));
        Assert.Equal(RotationErrorIds.RedisTlsFailed, wrongName.ErrorId);
        await using var skip = await RedisConnection.ConnectAsync(tls, f.Server.Admin, new RedisConnectionOptions { Tls = true, SkipCertificateValidation = true, ServerName = "other.test" });
        await skip.PingAsync();
    }

    [Fact]
    public async Task RequirePass_is_the_baseline_that_fails_clients_with_the_old_password()
    {
        var tls = f.Endpoint(f.Tls);
        var oldPassword = SecretGenerator.NewPassword();
        await using (var admin = await RedisConnection.ConnectAsync(tls, f.Server.Admin, f.TlsOptions))
        {
            await admin.AclSetUserAsync("default", ["reset", "on", ">" + oldPassword, "~*", "&*", "+@all"], [oldPassword]);
        }
        var old = RotationCredential.FromPlainText("default", oldPassword);
        var env = new TestRotationServices();
        RedisAclRotation result;
        await using (var load = new RedisLoginLoad([tls], 4, _ => old, f.TlsOptions))
        {
            await load.WarmUpAsync();
            Assert.Equal(0, load.Failures);
            result = await RedisAclRotator.RotateAsync(new RedisAclRotationRequest
            {
                Endpoints = [tls],
                User = "",
                AdminCredential = f.Server.Admin,
                Strategy = RedisAclStrategy.RequirePass,
                Options = f.TlsOptions,
                Uri = "file:///tmp/requirepass.json#default",
            }, env.Build());
            await load.WarmUpAsync();
            await load.StopAsync();
            Assert.True(load.Failures > 0, "clients with the old password kept working after requirepass changed");
        }
        Assert.Equal(("default", RedisPersistence.None), (result.NewUser, result.Persistence));
        Assert.Contains(env.LogLines, l => l.StartsWith("WARNING RequirePass", StringComparison.Ordinal));
        Assert.Contains(env.LogLines, l => l.Contains("in memory only", StringComparison.Ordinal));
        Assert.True((await RedisCredentialChecks.TestAsync([tls], result.Credential, false, f.TlsOptions)).Success);
        Assert.True((await RedisCredentialChecks.TestAsync([tls], old, true, f.TlsOptions)).Success);
        LeakAssert.NoneOf([oldPassword, SecureStrings.ToPlainText(result.Credential.Password)], env.Captured());
        await using var cleanup = await RedisConnection.ConnectAsync(tls, f.Server.Admin, f.TlsOptions);
        await cleanup.AclSetUserAsync("default", ["reset", "off"]);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Rotation.Core.Errors;
using Rotation.Core.Redis;
using Rotation.Core.Secrets;

namespace Rotation.Core.Tests.Redis;

/// <summary>The client against the real Redis 7 server, and against loopback sockets that misbehave.</summary>
public sealed class RedisConnectionTests
{
    private readonly RedisTestServer _server = new();

    [Theory]
    [InlineData(RedisProtocol.Auto, 3)]
    [InlineData(RedisProtocol.Resp3, 3)]
    [InlineData(RedisProtocol.Resp2, 2)]
    public async Task Authenticates_with_a_user_name_over_both_protocols(RedisProtocol protocol, int expected)
    {
        await using var c = await RedisConnection.ConnectAsync(_server.Endpoint, _server.Admin, new RedisConnectionOptions { Protocol = protocol });
        Assert.Equal(expected, c.ProtocolVersion);
        Assert.Equal(_server.Admin.UserName, await c.AclWhoAmIAsync());
        await c.PingAsync();
        Assert.Contains("redis_version", (await c.InfoAsync("server")).Keys);
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task Acl_commands_round_trip_in_both_protocols(RedisProtocol protocol)
    {
        var name = RedisTestServer.UniqueName("conn");
        await using var c = await RedisConnection.ConnectAsync(_server.Endpoint, _server.Admin, new RedisConnectionOptions { Protocol = protocol });
        try
        {
            await c.AclSetUserAsync(name, ["reset", "on", ">pw-one-123", "~config:*", "%R~ro:*", "&chan", "-@all", "+subscribe", "+get", "(~sel:* +set)"], ["pw-one-123"]);
            var u = (await c.AclGetUserAsync(name))!;
            Assert.True(u.Enabled);
            Assert.Equal([RedisPasswordHash.Of("pw-one-123")], u.PasswordHashes);
            Assert.Equal("~config:* %R~ro:*", u.Keys);
            Assert.Equal("&chan", u.Channels);
            Assert.Equal("-@all +subscribe +get", u.Commands);
            Assert.Equal("(~sel:* resetchannels -@all +set)", Assert.Single(u.Selectors).ToRule());
            Assert.Contains(await c.AclListAsync(), l => l.StartsWith($"user {name} on", StringComparison.Ordinal));
            Assert.Null(await c.AclGetUserAsync(name + "_missing"));
            Assert.Equal(1, await c.AclDelUserAsync(name));
        }
        finally
        {
            await _server.DeleteUsersAsync(name);
        }
    }

    [Fact]
    public async Task Config_and_client_commands_work()
    {
        await using var c = await _server.AdminAsync();
        Assert.Equal(TestEnvironmentAclFile(), (await c.ConfigGetAsync("aclfile"))["aclfile"]);
        await c.ConfigSetAsync("slowlog-max-len", "129", sensitive: false);
        Assert.Equal("129", (await c.ConfigGetAsync("slowlog-max-len"))["slowlog-max-len"]);
        var me = await c.ClientListAsync();
        Assert.Contains(me, x => x.User == _server.Admin.UserName && x.LastCommand == "client|list");
        await c.AclSaveAsync();
        // No config file on the test server: CONFIG REWRITE must fail with a clear, non-secret error.
        var ex = await Assert.ThrowsAsync<RotationException>(() => c.ConfigRewriteAsync());
        Assert.Equal(RotationErrorIds.RedisCommandFailed, ex.ErrorId);
    }

    private static string TestEnvironmentAclFile() => Infrastructure.TestEnvironment.Require("ROTATION_TEST_REDIS_ACLFILE");

    [Fact]
    public async Task Client_kill_user_closes_that_users_connections()
    {
        var name = RedisTestServer.UniqueName("kill");
        var login = await _server.CreateUserAsync(name, ["+@all", "~*"]);
        try
        {
            await using var victim = await RedisConnection.ConnectAsync(_server.Endpoint, login);
            await using var admin = await _server.AdminAsync();
            Assert.Single(await RedisCredentialChecks.ListClientsAsync([_server.Endpoint], _server.Admin, name));
            Assert.Equal(1, await admin.ClientKillUserAsync(name));
            var ex = await Assert.ThrowsAsync<RotationException>(() => victim.PingAsync());
            Assert.Equal(RotationErrorIds.RedisUnreachable, ex.ErrorId);
        }
        finally
        {
            await _server.DeleteUsersAsync(name);
        }
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task A_wrong_password_is_RedisAuthenticationFailed_and_never_echoes_it(RedisProtocol protocol)
    {
        var wrong = RotationCredential.FromPlainText(_server.Admin.UserName, "not-the-password-" + Guid.NewGuid());
        var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(_server.Endpoint, wrong, new RedisConnectionOptions { Protocol = protocol }));
        Assert.Equal(RotationErrorIds.RedisAuthenticationFailed, ex.ErrorId);
        Assert.Equal(RotationErrorCategory.AuthenticationError, ex.Category);
        Assert.Contains("WRONGPASS", ex.Message, StringComparison.Ordinal);
        Infrastructure.LeakAssert.NoneOf([SecureStrings.ToPlainText(wrong.Password)], [("message", ex.Message)]);
    }

    [Fact]
    public async Task No_credential_on_a_server_without_a_default_user_is_NOAUTH()
    {
        await using var c = await RedisConnection.ConnectAsync(_server.Endpoint, null, new RedisConnectionOptions { Protocol = RedisProtocol.Resp2 });
        var ex = await Assert.ThrowsAsync<RotationException>(() => c.PingAsync());
        Assert.Equal(RotationErrorIds.RedisAuthenticationFailed, ex.ErrorId);
        Assert.Contains("NOAUTH", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_without_acl_permission_gets_RedisPermissionDenied()
    {
        var name = RedisTestServer.UniqueName("noacl");
        var login = await _server.CreateUserAsync(name, ["~*", "+@all", "-acl"]);
        try
        {
            await using var c = await RedisConnection.ConnectAsync(_server.Endpoint, login);
            var ex = await Assert.ThrowsAsync<RotationException>(() => c.AclSetUserAsync(name, [">x-secret-password"], ["x-secret-password"]));
            Assert.Equal(RotationErrorIds.RedisPermissionDenied, ex.ErrorId);
            Assert.Equal(RotationErrorCategory.PermissionDenied, ex.Category);
            Assert.Contains("NOPERM", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("x-secret-password", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            await _server.DeleteUsersAsync(name);
        }
    }

    [Fact]
    public async Task Server_errors_that_quote_a_password_are_redacted()
    {
        await using var c = await _server.AdminAsync();
        var name = RedisTestServer.UniqueName("redact");
        try
        {
            await c.AclSetUserAsync(name, ["on", ">first-password-1"], ["first-password-1"]);
            // Redis answers: ERR Error in ACL SETUSER modifier '<...': The password you are trying to remove ... does not exist
            var ex = await Assert.ThrowsAsync<RotationException>(() => c.AclSetUserAsync(name, ["<never-set-password-2"], ["never-set-password-2"]));
            Assert.Equal(RotationErrorIds.RedisCommandFailed, ex.ErrorId);
            Assert.DoesNotContain("never-set-password-2", ex.Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            await _server.DeleteUsersAsync(name);
        }
    }

    [Fact]
    public async Task A_refused_connection_is_RedisUnreachable()
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(_server.Unreachable, _server.Admin));
        Assert.Equal(RotationErrorIds.RedisUnreachable, ex.ErrorId);
        Assert.Equal(RotationErrorCategory.ConnectionError, ex.Category);
        Assert.Contains(_server.Unreachable.ToString(), ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A loopback listener that accepts and then does what the test says with each connection.</summary>
    private static (TcpListener Listener, RedisEndpoint Endpoint, Task Server) Fake(Func<NetworkStream, Task> behave)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            await behave(client.GetStream());
        });
        return (listener, new RedisEndpoint("127.0.0.1", port), server);
    }

    [Fact]
    public async Task A_server_that_never_replies_times_out_as_RedisUnreachable()
    {
        var release = new TaskCompletionSource();
        var (listener, endpoint, server) = Fake(async _ => await release.Task);
        try
        {
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(endpoint, null,
                new RedisConnectionOptions { ReadTimeout = TimeSpan.FromMilliseconds(300) }));
            Assert.Equal(RotationErrorIds.RedisUnreachable, ex.ErrorId);
            Assert.Equal(RotationErrorCategory.OperationTimeout, ex.Category);
        }
        finally
        {
            release.SetResult();
            await server;
            listener.Stop();
        }
    }

    [Theory]
    [InlineData("HTTP/1.1 400 Bad Request\r\n\r\n")]
    [InlineData("$10\r\nabc")]
    [InlineData("*2\r\n+OK\r\n")]
    public async Task A_server_sending_garbage_or_a_truncated_reply_is_RedisProtocolError(string garbage)
    {
        var (listener, endpoint, server) = Fake(async s =>
        {
            var buffer = new byte[1024];
            _ = await s.ReadAsync(buffer);
            await s.WriteAsync(Encoding.ASCII.GetBytes(garbage));
            s.Close();
        });
        try
        {
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(endpoint, null, new RedisConnectionOptions { Protocol = RedisProtocol.Resp3 }));
            Assert.Equal(RotationErrorIds.RedisProtocolError, ex.ErrorId);
        }
        finally
        {
            await server;
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_tls_handshake_that_never_answers_times_out_at_the_connect_timeout()
    {
        var release = new TaskCompletionSource();
        var (listener, endpoint, server) = Fake(async _ => await release.Task);
        try
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(endpoint, _server.Admin,
                new RedisConnectionOptions { Tls = true, ConnectTimeout = TimeSpan.FromMilliseconds(300) }));
            Assert.Equal(RotationErrorIds.RedisTlsFailed, ex.ErrorId);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        }
        finally
        {
            release.SetResult();
            await server;
            listener.Stop();
        }
    }

    [Fact]
    public async Task Tls_against_a_plain_server_fails_clearly()
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(_server.Endpoint, _server.Admin,
            new RedisConnectionOptions { Tls = true, ConnectTimeout = TimeSpan.FromSeconds(2) }));
        Assert.Equal(RotationErrorIds.RedisTlsFailed, ex.ErrorId);
        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_ca_file_fails_before_any_secret_is_sent()
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => RedisConnection.ConnectAsync(_server.Endpoint, _server.Admin,
            new RedisConnectionOptions { Tls = true, CaFile = "/nonexistent/ca.pem" }));
        Assert.Equal(RotationErrorIds.RedisTlsFailed, ex.ErrorId);
    }
}

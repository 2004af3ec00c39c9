using Rotation.Core.Errors;
using Rotation.Core.Redis;

namespace Rotation.Core.Tests.Redis;

public sealed class RedisModelTests
{
    [Theory]
    [InlineData("redis-0:6379", "redis-0", 6379)]
    [InlineData("redis-0", "redis-0", 6379)]
    [InlineData("127.0.0.1:55452", "127.0.0.1", 55452)]
    [InlineData("[::1]:7000", "::1", 7000)]
    [InlineData("[::1]", "::1", 6379)]
    [InlineData(" host:1 ", "host", 1)]
    public void Endpoints_parse(string text, string host, int port)
    {
        var e = RedisEndpoint.Parse(text);
        Assert.Equal((host, port), (e.Host, e.Port));
        Assert.Equal(e, RedisEndpoint.Parse(e.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":6379")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:abc")]
    [InlineData("::1:6379")]
    [InlineData("[::1")]
    public void Bad_endpoints_are_invalid_arguments(string text)
    {
        var ex = Assert.Throws<RotationException>(() => RedisEndpoint.Parse(text));
        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
    }

    [Fact]
    public void Endpoint_lists_accept_commas_and_refuse_duplicates()
    {
        Assert.Equal(3, RedisEndpoint.ParseMany(["a:1,b:2", "c:3"]).Count);
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => RedisEndpoint.ParseMany(["a:1", "a:1"])).ErrorId);
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => RedisEndpoint.ParseMany([])).ErrorId);
    }

    [Theory]
    [InlineData("backend", "backend", 1)]
    [InlineData("backend_v2", "backend", 2)]
    [InlineData("backend_v10", "backend", 10)]
    [InlineData("my_var", "my_var", 1)]
    [InlineData("x_v0", "x_v0", 1)]
    public void User_names_split_into_base_and_version(string name, string baseName, int version) =>
        Assert.Equal((baseName, version), RedisUserNames.Split(name));

    [Fact]
    public void Server_errors_are_redacted_of_secrets_and_quoted_password_modifiers()
    {
        const string secret = "s3cr3t-Value_123";
        var text = RedisErrors.Redact($"ERR Error in ACL SETUSER modifier '<{secret}': The password you are trying to remove from the user does not exist", [secret]);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        var unknown = RedisErrors.Redact("ERR Error in ACL SETUSER modifier '>other-password': Syntax error", []);
        Assert.DoesNotContain("other-password", unknown, StringComparison.Ordinal);
        Assert.Contains("'>[redacted]'", unknown, StringComparison.Ordinal);
    }

    private static RespValue GetUserReply(bool resp3, string flags, string keys, string channels, string commands, params (string K, string C, string Cmd)[] selectors)
    {
        RespValue Pairs(params (string, RespValue)[] kv) => RespValue.Aggregate(resp3 ? RespType.Map : RespType.Array,
            kv.SelectMany(p => new[] { RespValue.Bulk(p.Item1), p.Item2 }).ToList());
        return Pairs(
            ("flags", RespValue.Aggregate(resp3 ? RespType.Set : RespType.Array, flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(RespValue.Simple).ToList())),
            ("passwords", RespValue.Aggregate(RespType.Array, [RespValue.Bulk(new string('a', 64))])),
            ("commands", RespValue.Bulk(commands)),
            ("keys", RespValue.Bulk(keys)),
            ("channels", RespValue.Bulk(channels)),
            ("selectors", RespValue.Aggregate(RespType.Array, selectors.Select(s => Pairs(
                ("commands", RespValue.Bulk(s.Cmd)), ("keys", RespValue.Bulk(s.K)), ("channels", RespValue.Bulk(s.C)))).ToList())));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Clone_rules_carry_everything_but_passwords(bool resp3)
    {
        var user = RedisAclUser.Parse("backend", GetUserReply(resp3, "on nopass", "~config:* %R~ro:*", "", "-@all +subscribe", ("~sel:*", "&c", "-@all +set")), "t");
        var rules = user.CloneRules();
        Assert.Equal(["reset", "on", "~config:*", "%R~ro:*", "resetchannels", "-@all", "+subscribe", "(~sel:* &c -@all +set)"], rules);
        Assert.DoesNotContain(rules, r => r.StartsWith('>') || r.StartsWith('#') || r == "nopass");
        Assert.Single(user.PasswordHashes);
    }

    [Fact]
    public void Rule_signatures_ignore_passwords_and_name_the_difference()
    {
        var a = RedisAclUser.Parse("a", GetUserReply(true, "on", "~*", "&*", "+@all"), "t");
        var b = RedisAclUser.Parse("b", GetUserReply(false, "on nopass", "~*", "&*", "+@all"), "t");
        var c = RedisAclUser.Parse("c", GetUserReply(true, "on", "~x:*", "&*", "+@all"), "t");
        Assert.Equal(a.RuleSignature(), b.RuleSignature());
        Assert.NotEqual(a.RuleSignature(), c.RuleSignature());
        Assert.Contains("keys '~*' vs '~x:*'", RedisAclUser.Describe(a, c), StringComparison.Ordinal);
    }

    [Fact]
    public void A_getuser_reply_of_the_wrong_shape_is_a_protocol_error()
    {
        var ex = Assert.Throws<RotationException>(() => RedisAclUser.Parse("u", RespValue.Aggregate(RespType.Array, [RespValue.Bulk("flags")]), "t:1"));
        Assert.Equal(RotationErrorIds.RedisProtocolError, ex.ErrorId);
    }

    [Fact]
    public void Client_list_lines_parse()
    {
        var clients = RedisClientInfo.ParseList(
            "id=3 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name=app age=12 idle=3 flags=N db=2 user=backend cmd=get\n" +
            "id=4 addr=127.0.0.1:5001 fd=9 name= age=0 idle=0 flags=N db=0 user=admin cmd=client|list\n", "n:1");
        Assert.Equal(2, clients.Count);
        Assert.Equal(("backend", 3L, "app", 2, TimeSpan.FromSeconds(12)), (clients[0].User, clients[0].Id, clients[0].Name!, clients[0].Database, clients[0].Age));
        Assert.Null(clients[1].Name);
    }

    [Fact]
    public void Fingerprint_of_a_redis_hash_is_the_fingerprint_of_the_password()
    {
        const string pw = "correct horse battery staple";
        Assert.Equal(Rotation.Core.Secrets.Fingerprint.Of(pw), RedisPasswordHash.FingerprintOfHash(RedisPasswordHash.Of(pw)));
    }
}

public sealed class RedisRuleNormalizationTests
{
    // Regression: two Redis processes described the same user's commands as '-@all +ping +set +get' and
    // '-@all +get +ping +set' (command table hash order), and the rotation reported the nodes as diverged.
    [Theory]
    [InlineData("-@all +ping +set +get", "-@all +get +ping +set")]
    [InlineData("+@all -debug -flushall", "+@all -flushall -debug")]
    [InlineData("-@all +@read +get -set", "-@all +@read -set +get")]
    public void Command_rules_on_different_commands_compare_equal_in_any_order(string a, string b) =>
        Assert.Equal(RedisAclUser.NormalizeCommands(a), RedisAclUser.NormalizeCommands(b));

    [Theory]
    [InlineData("-@all +get +@read", "-@all +@read +get")]      // a category rule does not commute with a command rule
    [InlineData("-@all +config -config|set", "-@all -config|set +config")] // rules on one command keep their order
    public void Order_that_matters_is_kept(string a, string b) =>
        Assert.NotEqual(RedisAclUser.NormalizeCommands(a), RedisAclUser.NormalizeCommands(b));

    [Fact]
    public void Key_patterns_compare_as_a_set() =>
        Assert.Equal(RedisAclUser.NormalizePatterns("~b:* %R~a:*"), RedisAclUser.NormalizePatterns("%R~a:* ~b:*"));
}

using System.Collections;
using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Stores;

public sealed class SecretShaperTests
{
    private const string Target = "file:///tmp/s.json#db";

    private static SecretShapeInput Cred(string user, string password, string? server = null, int? port = null, string? database = null) => new()
    {
        Credential = RotationCredential.FromPlainText(user, password),
        Server = server,
        Port = port,
        Database = database,
    };

    [Fact]
    public void Password_is_the_password_alone()
    {
        Assert.Equal("pw-123456", SecretShaper.Shape(SecretShape.Password, Cred("app", "pw-123456"), Target).Text);
        Assert.Equal("pw-123456", SecretShaper.Shape(null, Cred("app", "pw-123456"), Target).Text);
        Assert.Equal("value-789", SecretShaper.Shape(null, new SecretShapeInput { Value = SecureStrings.FromPlainText("value-789") }, Target).Text);
    }

    [Fact]
    public void UserPassword_has_username_and_password_fields()
    {
        var v = SecretShaper.Shape(SecretShape.UserPassword, Cred("backend_v2", "p@ss:w/rd"), Target);
        Assert.Equal(new Dictionary<string, string> { ["password"] = "p@ss:w/rd", ["username"] = "backend_v2" }, v.Fields);
        Assert.Equal("{\"password\":\"p@ss:w/rd\",\"username\":\"backend_v2\"}", v.ToStoreText());
    }

    [Theory]
    [InlineData("app", "simple", "db", 5432, "app", "postgresql://app:simple@db:5432/app")]
    [InlineData("app", "a@b:c/d?e#f%g", "db.internal", 6432, "my db", "postgresql://app:a%40b%3Ac%2Fd%3Fe%23f%25g@db.internal:6432/my%20db")]
    [InlineData("us@er", "p w+&=;'\"\\", "10.0.0.5", null, null, "postgresql://us%40er:p%20w%2B%26%3D%3B%27%22%5C@10.0.0.5:5432")]
    [InlineData("app", "x", "::1", 5433, "app", "postgresql://app:x@[::1]:5433/app")]
    public void DatabaseUrl_percent_encodes_user_password_and_database(string user, string password, string server, int? port, string? database, string expected)
    {
        Assert.Equal(expected, SecretShaper.Shape(SecretShape.DatabaseUrl, Cred(user, password, server, port, database), Target).Text);
    }

    [Theory]
    [InlineData("backend", "@:/?#[]!$&'()*+,;= %\"\\<>^`{|}~")]
    [InlineData("us:er@x", "ünïcödé-パスワード-🔑")]
    [InlineData("a", "%41%2F")]
    [InlineData("a", "-_.~")]
    public void DatabaseUrl_round_trips_through_a_URL_parser(string user, string password)
    {
        var url = SecretShaper.Shape(SecretShape.DatabaseUrl, Cred(user, password, "db.example", 5433, "app/prod"), Target).Text;
        var parsed = new Uri(url);
        Assert.Equal("postgresql", parsed.Scheme);
        Assert.Equal("db.example", parsed.Host);
        Assert.Equal(5433, parsed.Port);
        var info = parsed.UserInfo.Split(':');
        Assert.Equal(2, info.Length); // the separator is the only raw ':' in userinfo
        Assert.Equal(user, Uri.UnescapeDataString(info[0]));
        Assert.Equal(password, Uri.UnescapeDataString(info[1]));
        Assert.Equal("app/prod", Uri.UnescapeDataString(parsed.AbsolutePath[1..]));
        Assert.Single(url, '@');
    }

    [Fact]
    public void DatabaseUrl_needs_a_server()
    {
        var ex = Assert.Throws<RotationException>(() => SecretShaper.Shape(SecretShape.DatabaseUrl, Cred("app", "secret-pw-1"), Target));
        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
        Assert.Contains("-Server", ex.Message);
        LeakAssert.NoneOf(["secret-pw-1"], [("message", ex.Message)]);
    }

    [Fact]
    public void Json_of_a_credential_is_the_RDS_secret_layout_with_a_numeric_port()
    {
        var text = SecretShaper.Shape(SecretShape.Json, Cred("app", "pw\"with'quotes", "db.internal", null, "orders"), Target).Text;
        using var doc = JsonDocument.Parse(text);
        var r = doc.RootElement;
        Assert.Equal("postgres", r.GetProperty("engine").GetString());
        Assert.Equal("db.internal", r.GetProperty("host").GetString());
        Assert.Equal(5432, r.GetProperty("port").GetInt32());
        Assert.Equal("app", r.GetProperty("username").GetString());
        Assert.Equal("pw\"with'quotes", r.GetProperty("password").GetString());
        Assert.Equal("orders", r.GetProperty("dbname").GetString());

        var bare = JsonDocument.Parse(SecretShaper.Shape(SecretShape.Json, Cred("app", "pw"), Target).Text).RootElement;
        Assert.False(bare.TryGetProperty("host", out _));
        Assert.False(bare.TryGetProperty("dbname", out _));
    }

    [Fact]
    public void A_field_map_becomes_a_JSON_object_of_strings()
    {
        var map = new Hashtable { ["JWT_SECRET"] = SecureStrings.FromPlainText("current-key-1"), ["JWT_SECRET_OLD"] = "old-key-0", ["TTL"] = 3600, ["ON"] = true };
        var v = SecretShaper.Shape(SecretShape.Json, new SecretShapeInput { Fields = map }, Target);
        Assert.Equal("current-key-1", v.Fields["JWT_SECRET"]);
        Assert.Equal("old-key-0", v.Fields["JWT_SECRET_OLD"]);
        Assert.Equal("3600", v.Fields["TTL"]);
        Assert.Equal("true", v.Fields["ON"]);
        Assert.True(SecretShaper.Shape(null, new SecretShapeInput { Fields = map }, Target).IsFields);
    }

    [Fact]
    public void A_field_map_refuses_objects_empty_maps_and_other_shapes()
    {
        Assert.Equal(RotationErrorIds.SecretShapeInvalid, Assert.Throws<RotationException>(() =>
            SecretShaper.Shape(SecretShape.Json, new SecretShapeInput { Fields = new Hashtable { ["x"] = new object() } }, Target)).ErrorId);
        Assert.Equal(RotationErrorIds.SecretShapeInvalid, Assert.Throws<RotationException>(() =>
            SecretShaper.Shape(SecretShape.Json, new SecretShapeInput { Fields = new Hashtable() }, Target)).ErrorId);
        Assert.Equal(RotationErrorIds.SecretShapeInvalid, Assert.Throws<RotationException>(() =>
            SecretShaper.Shape(SecretShape.UserPassword, new SecretShapeInput { Fields = new Hashtable { ["a"] = "b" } }, Target)).ErrorId);
    }

    [Fact]
    public void A_value_alone_cannot_become_a_user_and_password()
    {
        var input = new SecretShapeInput { Value = SecureStrings.FromPlainText("only-a-value-1") };
        var ex = Assert.Throws<RotationException>(() => SecretShaper.Shape(SecretShape.UserPassword, input, Target));
        Assert.Equal(RotationErrorIds.SecretShapeInvalid, ex.ErrorId);
        Assert.Contains("-Credential", ex.Message);
        Assert.Equal(RotationErrorIds.SecretShapeInvalid, Assert.Throws<RotationException>(() => SecretShaper.Shape(SecretShape.Json, input, Target)).ErrorId);
        Assert.Equal("{\"a\":1}", SecretShaper.Shape(SecretShape.Json, new SecretShapeInput { Value = SecureStrings.FromPlainText("{\"a\":1}") }, Target).Text);
        LeakAssert.NoneOf(["only-a-value-1"], [("message", ex.Message)]);
    }

    [Fact]
    public void Nothing_or_two_sources_is_an_invalid_argument()
    {
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => SecretShaper.Shape(null, new SecretShapeInput(), Target)).ErrorId);
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() =>
            SecretShaper.Shape(null, new SecretShapeInput { Fields = new Hashtable { ["a"] = "b" }, Value = SecureStrings.FromPlainText("v") }, Target)).ErrorId);
    }
}

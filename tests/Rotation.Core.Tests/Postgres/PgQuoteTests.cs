using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Secrets;

namespace Rotation.Core.Tests.Postgres;

public sealed class PgQuoteTests
{
    public static readonly TheoryData<string> HostileNames = new()
    {
        "a\"b", "x'; drop table t; --", "select", "user", "MixedCase", "with space", "ümlaut", "$dollar", "1digit", "plain_name", "\"", "a\\b",
    };

    [Theory]
    [InlineData("app", "app")]
    [InlineData("app_v2", "app_v2")]
    [InlineData("App", "\"App\"")]
    [InlineData("a\"b", "\"a\"\"b\"")]
    [InlineData("select", "\"select\"")]
    [InlineData("name", "name")]
    [InlineData("x'; drop table t; --", "\"x'; drop table t; --\"")]
    public void Identifier_follows_quote_ident(string name, string expected) => Assert.Equal(expected, PgQuote.Identifier(name));

    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", "'it''s'")]
    [InlineData("back\\slash", "E'back\\\\slash'")]
    [InlineData("'\\'", "E'''\\\\'''")]
    public void Literal_follows_quote_literal(string value, string expected) => Assert.Equal(expected, PgQuote.Literal(value));

    [Theory]
    [InlineData("")]
    [InlineData("nul\0byte")]
    public void Invalid_identifiers_are_refused(string name)
    {
        var ex = Assert.Throws<RotationException>(() => PgQuote.Identifier(name));
        Assert.Equal(RotationErrorIds.DbIdentifierInvalid, ex.ErrorId);
    }

    [Fact]
    public void Identifiers_longer_than_63_bytes_are_refused_not_truncated()
    {
        Assert.Equal(63, PgQuote.Identifier(new string('a', 63)).Length);
        var ex = Assert.Throws<RotationException>(() => PgQuote.Identifier(new string('a', 64)));
        Assert.Equal(RotationErrorIds.DbIdentifierInvalid, ex.ErrorId);
        // 32 two-byte characters are 64 bytes: the limit is bytes, not characters.
        Assert.Throws<RotationException>(() => PgQuote.Identifier(new string('é', 32)));
    }

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Identifier_matches_the_servers_quote_ident(string name)
    {
        var server = await PgTest.ScalarAsync<string>("select quote_ident($1)", name);
        Assert.Equal(server, PgQuote.Identifier(name));
    }

    [Theory]
    [InlineData("it's")]
    [InlineData("back\\slash")]
    [InlineData("'; select pg_sleep(10); --")]
    [InlineData("\\'\"")]
    public async Task Literal_round_trips_through_the_server(string value)
    {
        Assert.Equal(value, await PgTest.ScalarAsync<string>("select " + PgQuote.Literal(value)));
        Assert.Equal(await PgTest.ScalarAsync<string>("select quote_literal($1)", value), PgQuote.Literal(value));
    }

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Hostile_role_names_are_created_and_log_in_as_data(string name)
    {
        var role = name + Guid.NewGuid().ToString("N")[..6];
        // A password with quotes and backslashes goes as a literal (not as a verifier) to prove the escaping.
        var password = "p'w\"d\\" + SecretGenerator.NewPassword(12) + "'; --";
        await PgTest.ExecAsync($"CREATE ROLE {PgQuote.Identifier(role)} LOGIN PASSWORD {PgQuote.Literal(password)}");
        try
        {
            Assert.True(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", role));
            Assert.True(await PgTest.CanLoginAsync(RotationCredential.FromPlainText(role, password)));
        }
        finally
        {
            await PgTest.ExecAsync($"DROP ROLE {PgQuote.Identifier(role)}");
        }
    }

    [Fact]
    public async Task Scram_verifier_is_accepted_and_the_password_logs_in()
    {
        var role = PgTest.Unique("scram");
        var password = SecretGenerator.NewPassword();
        var verifier = PgScram.Verifier(password);
        Assert.NotNull(verifier);
        Assert.DoesNotContain(password, verifier, StringComparison.Ordinal);
        await PgTest.ExecAsync($"CREATE ROLE {role} LOGIN PASSWORD {PgScram.PasswordLiteral(password)}");
        try
        {
            Assert.StartsWith("SCRAM-SHA-256$4096:", await PgTest.ScalarAsync<string>("select rolpassword from pg_authid where rolname = $1", role), StringComparison.Ordinal);
            Assert.True(await PgTest.CanLoginAsync(RotationCredential.FromPlainText(role, password)));
            Assert.False(await PgTest.CanLoginAsync(RotationCredential.FromPlainText(role, password + "x")));
        }
        finally
        {
            await PgTest.ExecAsync($"DROP ROLE {role}");
        }
    }

    [Fact]
    public void Non_ascii_passwords_are_not_turned_into_verifiers() => Assert.Null(PgScram.Verifier("pässwort"));
}

public sealed class PgQuotePropertyTests
{
    // 400 random strings over an alphabet heavy in quotes, backslashes, keywords' letters and non-ASCII, checked in one
    // round trip each way: our literal reads back as the string, and our identifier is the server's quote_ident.
    [Fact]
    public async Task Random_hostile_strings_quote_exactly_as_the_server_does()
    {
        const string alphabet = "aZ_09$'\"\\; -–é€\t\n()%*";
        var random = new Random(20261121);
        var values = Enumerable.Range(0, 400)
            .Select(_ => new string(Enumerable.Range(0, random.Next(1, 20)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()))
            .Where(v => System.Text.Encoding.UTF8.GetByteCount(v) <= PgQuote.MaxIdentifierBytes)
            .ToList();
        await using var c = await PgTest.OpenAdminAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"select ARRAY[{string.Join(", ", values.Select(PgQuote.Literal))}]::text[], " +
            "array(select quote_ident(v) from unnest($1::text[]) with ordinality u(v, n) order by n)", c);
        cmd.Parameters.AddWithValue(values.ToArray());
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal(values, r.GetFieldValue<string[]>(0));
        Assert.Equal(r.GetFieldValue<string[]>(1), values.Select(PgQuote.Identifier).ToArray());
    }
}

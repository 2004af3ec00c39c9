using Rotation.Core.Postgres;
using Rotation.Core.Secrets;

namespace Rotation.Core.Tests.Postgres;

/// <summary>
/// A database of its own with an application login that has a bit of every kind of right, so a rotation has real
/// work to copy: attributes, settings, memberships (one with ADMIN OPTION), database, schema, table, column, sequence,
/// routine and type grants, and default privileges in both directions. Disposing drops the database and the roles.
/// </summary>
internal sealed class PgFixture : IAsyncDisposable
{
    private readonly List<string> _roles = [];

    private PgFixture(string database, string prefix)
    {
        Database = database;
        Prefix = prefix;
    }

    public string Database { get; }

    public string Prefix { get; }

    public string Group => Prefix + "_grp";

    public string Owner => Prefix + "_owner";

    public RotationCredential App { get; private set; } = null!;

    public DbConnectionOptions AdminOptions => PgTest.Admin(Database);

    public static async Task<PgFixture> CreateAsync(string appName = "app", bool richGrants = true)
    {
        var f = new PgFixture(await PgTest.CreateDatabaseAsync(), PgTest.Unique("t"));
        var app = f.Prefix + "_" + appName;
        f._roles.AddRange([f.Group, f.Group + "2", f.Owner, app]);
        await PgTest.ExecAsync($"CREATE ROLE {f.Group} NOLOGIN; CREATE ROLE {f.Group}2 NOLOGIN; CREATE ROLE {f.Owner} NOLOGIN");
        f.App = await PgTest.CreateLoginAsync(app, "CONNECTION LIMIT 50 VALID UNTIL '2099-01-01' CREATEDB");
        if (richGrants)
        {
            var a = PgQuote.Identifier(app);
            await PgTest.ExecAsync(
                $"GRANT {f.Group} TO {a}; GRANT {f.Group}2 TO {a} WITH ADMIN OPTION; " +
                $"ALTER ROLE {a} SET statement_timeout = '5s'; ALTER ROLE {a} IN DATABASE {f.Database} SET search_path = \"$user\", s1, public; " +
                $"GRANT CONNECT, TEMPORARY ON DATABASE {f.Database} TO {a}");
            await PgTest.ExecAsync(
                $"CREATE SCHEMA s1 AUTHORIZATION {f.Owner}; GRANT USAGE ON SCHEMA s1 TO {a}; GRANT CREATE ON SCHEMA s1 TO {a} WITH GRANT OPTION; " +
                "CREATE TABLE s1.\"Orders\"(id serial primary key, note text, secret text); " +
                $"ALTER TABLE s1.\"Orders\" OWNER TO {f.Owner}; " +
                $"GRANT SELECT, INSERT ON s1.\"Orders\" TO {a}; GRANT UPDATE (note) ON s1.\"Orders\" TO {a}; " +
                $"GRANT USAGE ON SEQUENCE s1.\"Orders_id_seq\" TO {a}; " +
                "CREATE FUNCTION s1.total(int, text) RETURNS int LANGUAGE sql AS 'select $1'; " +
                $"ALTER FUNCTION s1.total(int, text) OWNER TO {f.Owner}; REVOKE EXECUTE ON FUNCTION s1.total(int, text) FROM PUBLIC; " +
                $"GRANT EXECUTE ON FUNCTION s1.total(int, text) TO {a}; " +
                $"CREATE TYPE s1.mood AS ENUM ('ok'); ALTER TYPE s1.mood OWNER TO {f.Owner}; GRANT USAGE ON TYPE s1.mood TO {a}; " +
                $"ALTER DEFAULT PRIVILEGES FOR ROLE {f.Owner} IN SCHEMA s1 GRANT SELECT, UPDATE ON TABLES TO {a}; " +
                $"ALTER DEFAULT PRIVILEGES FOR ROLE {a} GRANT SELECT ON TABLES TO {f.Group}",
                f.Database);
        }
        return f;
    }

    /// <summary>A role the fixture drops at the end (created by a test or by a rotation).</summary>
    public void Track(string role) => _roles.Add(role);

    public DbRotationRequest Request(PgRunHarness harness, DbRotationStrategy strategy, string? user = null, DbConnectionOptions? admin = null) => new()
    {
        Connection = admin ?? AdminOptions,
        User = user ?? App.UserName,
        Strategy = strategy,
        SecretUri = harness.SecretUri,
    };

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgTest.ExecAsync($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");
            await using var c = await PgTest.OpenAdminAsync();
            foreach (var role in (await PgCatalog.RolesLikeAsync(c, Prefix, CancellationToken.None)).Concat(_roles).Distinct())
            {
                await PgCatalog.ExecuteAsync(c, $"select pg_terminate_backend(pid) from pg_stat_activity where usename = '{role}'", CancellationToken.None);
                if (await PgCatalog.RoleExistsAsync(c, role, CancellationToken.None))
                {
                    await PgCatalog.ExecuteAsync(c, $"DROP OWNED BY {PgQuote.Identifier(role)}; DROP ROLE {PgQuote.Identifier(role)}", CancellationToken.None);
                }
            }
        }
        catch (Exception)
        {
            // Best effort: a leftover uniquely named role harms no other test.
        }
    }
}

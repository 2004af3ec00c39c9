using Npgsql;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Postgres;

/// <summary>The real PostgreSQL of tests/servers.sh, and unique names so tests never share a role.</summary>
internal static class PgTest
{
    public static DbConnectionOptions Admin(string? database = "postgres") => new()
    {
        Server = TestEnvironment.Require("ROTATION_TEST_PG_HOST"),
        Port = TestEnvironment.RequirePort("ROTATION_TEST_PG_PORT"),
        Database = database,
        AdminCredential = RotationCredential.FromPlainText(TestEnvironment.Require("ROTATION_TEST_PG_USER"), TestEnvironment.Require("ROTATION_TEST_PG_PASSWORD")),
    };

    public static DbConnectionOptions As(RotationCredential login, string? database = "postgres") => new()
    {
        Server = TestEnvironment.Require("ROTATION_TEST_PG_HOST"),
        Port = TestEnvironment.RequirePort("ROTATION_TEST_PG_PORT"),
        Database = database,
        AdminCredential = login,
    };

    public static string Unique(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..10];

    public static async Task<NpgsqlConnection> OpenAdminAsync(string? database = "postgres")
    {
        var o = Admin(database);
        return await PgCatalog.OpenAsync(o, o.AdminCredential!, pooling: false, CancellationToken.None);
    }

    public static async Task ExecAsync(string sql, string? database = "postgres")
    {
        await using var c = await OpenAdminAsync(database);
        await PgCatalog.ExecuteAsync(c, sql, CancellationToken.None);
    }

    public static async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var c = await OpenAdminAsync();
        return await PgCatalog.ScalarAsync<T>(c, sql, CancellationToken.None, args);
    }

    /// <summary>Creates a login with a known password and returns its credential.</summary>
    public static async Task<RotationCredential> CreateLoginAsync(string name, string extra = "", string? database = "postgres")
    {
        var password = SecretGenerator.NewPassword();
        await ExecAsync($"CREATE ROLE {PgQuote.Identifier(name)} LOGIN {extra} PASSWORD {PgQuote.Literal(password)}", database);
        return RotationCredential.FromPlainText(name, password);
    }

    /// <summary>A fresh database for a test that changes grants, so tests stay independent.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var db = Unique("db");
        await ExecAsync($"CREATE DATABASE {db}");
        return db;
    }

    public static async Task<bool> CanLoginAsync(RotationCredential login, string? database = "postgres") =>
        (await PgCatalog.TryLoginAsync(As(login, database), login, CancellationToken.None)).Outcome == DbLoginOutcome.Succeeded;
}

/// <summary>Captures the core's log (for leak checks).</summary>
internal sealed class CapturingLog : IRotationLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines { get { lock (_lines) { return _lines.ToList(); } } }

    public void Verbose(string message) { lock (_lines) { _lines.Add("V " + message); } }

    public void Warning(string message) { lock (_lines) { _lines.Add("W " + message); } }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Postgres;

/// <summary>A session of a user, from pg_stat_activity (Get-DbUserSession's output).</summary>
public sealed class DbUserSession
{
    public required string Server { get; init; }
    public required int Port { get; init; }
    public string? Database { get; init; }
    public required string User { get; init; }
    public required int ProcessId { get; init; }
    public string? ApplicationName { get; init; }
    public string? ClientAddress { get; init; }
    public string? State { get; init; }
    public DateTimeOffset? BackendStart { get; init; }

    public override string ToString() =>
        $"pid {ProcessId} ({ApplicationName ?? "no application name"} from {ClientAddress ?? "local socket"}, {State ?? "unknown state"}, since {BackendStart:u})";
}

/// <summary>What a role's comment says about its rotation (the marker Rotation keeps there, see <see cref="PgCatalog"/>).</summary>
public sealed record DbRotationMarker(string State, DateTimeOffset At, string? RunId, string? Successor, string? Strategy);

/// <summary>
/// Catalog reads and the small role statements every PostgreSQL cmdlet shares. Opening connections lives here too, so
/// every failure goes through <see cref="PgErrors"/>.
///
/// Retirement time: a rotation writes a marker line into the retired role's comment
/// (<c>[rotation] retired=2026-11-21T23:00:00Z run=r-... successor=app_v3 strategy=NewUser</c>), keeping any other
/// comment text. The database itself then says which roles are retired and since when, so Remove-RetiredDbUser
/// works from any agent, without the journal or the store of the run that retired them.
/// </summary>
public static partial class PgCatalog
{
    public static async Task<NpgsqlConnection> OpenAsync(DbConnectionOptions options, RotationCredential login, bool pooling, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(options.ConnectionStringFor(login, pooling));
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException or ArgumentException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw PgErrors.Translate(ex, options.TargetName, login.UserName);
        }
    }

    /// <summary>A real, unpooled login; the result says why it failed.</summary>
    public static async Task<(DbLoginOutcome Outcome, RotationException? Error)> TryLoginAsync(DbConnectionOptions options, RotationCredential login, CancellationToken cancellationToken)
    {
        try
        {
            await using var c = await OpenAsync(options, login, pooling: false, cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("select 1", c);
            await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return (DbLoginOutcome.Succeeded, null);
        }
        catch (RotationException ex)
        {
            return (PgErrors.Outcome(ex), ex);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException)
        {
            var re = PgErrors.Translate(ex, options.TargetName, login.UserName);
            return (PgErrors.Outcome(re), re);
        }
    }

    public static RotationException UserNotFound(string role, NpgsqlConnection connection) =>
        Errors.Errors.NotFound(RotationErrorIds.DbUserNotFound, role,
            $"The role '{role}' does not exist on {connection.Host}:{connection.Port}/{connection.Database}. Check -User (role names are case-sensitive).");

    public static async Task<bool> RoleExistsAsync(NpgsqlConnection c, string role, CancellationToken ct) =>
        await ScalarAsync<bool>(c, "select exists(select 1 from pg_roles where rolname = $1)", ct, role).ConfigureAwait(false);

    /// <summary>Refuses an admin that can neither create roles nor is superuser, before anything changes.</summary>
    public static async Task RequireRoleAdminAsync(NpgsqlConnection c, string target, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select current_user, rolsuper, rolcreaterole from pg_roles where rolname = current_user", c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (await r.ReadAsync(ct).ConfigureAwait(false) && !r.GetBoolean(1) && !r.GetBoolean(2))
        {
            throw new RotationException(RotationErrorIds.InsufficientPrivilege, RotationErrorCategory.PermissionDenied, r.GetString(0),
                $"The admin login '{r.GetString(0)}' on {target} has neither SUPERUSER nor CREATEROLE, so it cannot create roles or set passwords. " +
                "Use a login with CREATEROLE (ALTER ROLE ... CREATEROLE). Nothing was changed.");
        }
    }

    public static async Task<bool> CanLoginAsync(NpgsqlConnection c, string role, CancellationToken ct) =>
        await ScalarAsync<bool?>(c, "select rolcanlogin from pg_roles where rolname = $1", ct, role).ConfigureAwait(false) ?? throw UserNotFound(role, c);

    public static async Task<IReadOnlyList<string>> RolesLikeAsync(NpgsqlConnection c, string prefix, CancellationToken ct)
    {
        var list = new List<string>();
        await using var cmd = new NpgsqlCommand("select rolname from pg_roles where left(rolname, length($1)) = $1 order by rolname", c);
        cmd.Parameters.AddWithValue(prefix);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    public static async Task<IReadOnlyList<DbUserSession>> SessionsAsync(NpgsqlConnection c, string role, CancellationToken ct)
    {
        var list = new List<DbUserSession>();
        await using var cmd = new NpgsqlCommand(
            "select pid, datname, application_name, client_addr::text, state, backend_start from pg_stat_activity " +
            "where usename = $1 and pid <> pg_backend_pid() order by backend_start", c);
        cmd.Parameters.AddWithValue(role);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(new DbUserSession
            {
                Server = c.Host ?? string.Empty,
                Port = c.Port,
                User = role,
                ProcessId = r.GetInt32(0),
                Database = r.IsDBNull(1) ? null : r.GetString(1),
                ApplicationName = r.IsDBNull(2) || r.GetString(2).Length == 0 ? null : r.GetString(2),
                ClientAddress = r.IsDBNull(3) ? null : r.GetString(3),
                State = r.IsDBNull(4) ? null : r.GetString(4),
                BackendStart = r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5),
            });
        }
        return list;
    }

    /// <summary>Terminates every backend of a role and waits (up to <paramref name="wait"/>) until they are gone.</summary>
    public static async Task<int> TerminateSessionsAsync(NpgsqlConnection c, string role, TimeSpan wait, CancellationToken ct)
    {
        var killed = await ScalarAsync<long>(c,
            "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()", ct, role).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + wait;
        while ((await SessionsAsync(c, role, ct).ConfigureAwait(false)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        return (int)killed;
    }

    public static async Task<string?> CommentAsync(NpgsqlConnection c, string role, CancellationToken ct) =>
        await ScalarAsync<string?>(c, "select shobj_description(oid, 'pg_authid') from pg_roles where rolname = $1", ct, role).ConfigureAwait(false);

    public static async Task<DbRotationMarker?> MarkerAsync(NpgsqlConnection c, string role, CancellationToken ct) =>
        ParseMarker(await CommentAsync(c, role, ct).ConfigureAwait(false));

    /// <summary>Replaces the role's rotation marker line (other comment text stays).</summary>
    public static async Task SetMarkerAsync(NpgsqlConnection c, string role, DbRotationMarker? marker, CancellationToken ct)
    {
        var comment = WithMarker(await CommentAsync(c, role, ct).ConfigureAwait(false), marker);
        await ExecuteAsync(c, $"COMMENT ON ROLE {PgQuote.Identifier(role)} IS {(comment is null ? "NULL" : PgQuote.Literal(comment))}", ct).ConfigureAwait(false);
    }

    public static string? WithMarker(string? comment, DbRotationMarker? marker)
    {
        var lines = (comment ?? string.Empty).Split('\n').Where(l => l.Length > 0 && !l.StartsWith(MarkerPrefix, StringComparison.Ordinal)).ToList();
        if (marker is not null)
        {
            lines.Add(FormatMarker(marker));
        }
        return lines.Count == 0 ? null : string.Join('\n', lines);
    }

    public const string MarkerPrefix = "[rotation] ";

    public static string FormatMarker(DbRotationMarker m) =>
        $"{MarkerPrefix}{m.State}={m.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}" +
        (m.RunId is null ? string.Empty : " run=" + m.RunId) +
        (m.Successor is null ? string.Empty : " successor=" + Uri.EscapeDataString(m.Successor)) +
        (m.Strategy is null ? string.Empty : " strategy=" + m.Strategy);

    public static DbRotationMarker? ParseMarker(string? comment)
    {
        if (comment is null)
        {
            return null;
        }
        foreach (var line in comment.Split('\n'))
        {
            var m = MarkerRegex().Match(line);
            if (m.Success && DateTimeOffset.TryParse(m.Groups["at"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var fields = m.Groups["rest"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
                return new DbRotationMarker(m.Groups["state"].Value, at, fields.GetValueOrDefault("run"),
                    fields.GetValueOrDefault("successor") is { } s ? Uri.UnescapeDataString(s) : null, fields.GetValueOrDefault("strategy"));
            }
        }
        return null;
    }

    [GeneratedRegex(@"^\[rotation\] (?<state>[a-z]+)=(?<at>\S+)(?<rest>.*)$")]
    private static partial Regex MarkerRegex();

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction, retried a few times when it lost a race PostgreSQL reports
    /// instead of waiting: GRANTs on one shared catalog row (a database's ACL) from parallel rotations fail with
    /// "tuple concurrently updated", and serialization failures or deadlocks can hit catalog updates too.
    /// </summary>
    public static async Task InTransactionAsync(NpgsqlConnection c, Func<NpgsqlTransaction, Task> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (c.State != System.Data.ConnectionState.Open)
            {
                // Npgsql breaks the connection on an internal error (XX000) such as a lost catalog race.
                await c.CloseAsync().ConfigureAwait(false);
                await c.OpenAsync(ct).ConfigureAwait(false);
            }
            await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
            try
            {
                await work(tx).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                return;
            }
            catch (PostgresException ex) when (attempt < 6 && IsLostRace(ex))
            {
                // Disposing the transaction rolls it back; the next attempt starts afresh.
                await Task.Delay(Random.Shared.Next(20, 60 * attempt), ct).ConfigureAwait(false);
            }
        }
    }

    private static bool IsLostRace(PostgresException ex) =>
        ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
        || (ex.SqlState == PostgresErrorCodes.InternalError && ex.MessageText.Contains("concurrently", StringComparison.Ordinal));

    public static async Task ExecuteAsync(NpgsqlConnection c, string sql, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        await using var cmd = new NpgsqlCommand(sql, c, tx);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection c, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        foreach (var a in args)
        {
            cmd.Parameters.AddWithValue(a);
        }
        var v = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return v is null or DBNull ? default! : (T)v;
    }
}

using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;
using Rotation.Core.Errors;

namespace Rotation.Core.Postgres;

/// <summary>Why a login failed, as Test-DbCredential -Detailed reports it.</summary>
public enum DbLoginOutcome
{
    Succeeded,
    AuthenticationFailed,
    Unreachable,
    Tls,
    Other,
}

/// <summary>
/// Turns Npgsql's exceptions into RotationException with the ids scripts match on. Server messages are kept (they
/// name roles and objects, never a password: role statements carry a SCRAM verifier, not the password).
/// </summary>
public static class PgErrors
{
    public static RotationException Translate(Exception ex, string target, string? user = null)
    {
        if (ex is RotationException re)
        {
            return re;
        }
        var who = user is null ? string.Empty : $" as '{user}'";
        if (ex is PostgresException pg)
        {
            return pg.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
                    new RotationException(RotationErrorIds.DbAuthenticationFailed, RotationErrorCategory.AuthenticationError, user ?? target,
                        $"PostgreSQL at {target} refused the login{who} ({pg.SqlState}: {pg.MessageText}). Check the user name and password, " +
                        "and that the role may log in.", ex),
                PostgresErrorCodes.InvalidCatalogName =>
                    Errors.Errors.NotFound(RotationErrorIds.DbDatabaseNotFound, target,
                        $"The database of {target} does not exist ({pg.MessageText}). Check -Database.", ex),
                PostgresErrorCodes.InsufficientPrivilege =>
                    new RotationException(RotationErrorIds.InsufficientPrivilege, RotationErrorCategory.PermissionDenied, user ?? target,
                        $"PostgreSQL at {target} refused the statement{who}: {pg.MessageText}. The admin login needs SUPERUSER or CREATEROLE, " +
                        "and membership in the roles whose grants and default privileges are copied. Nothing was changed by this statement.", ex),
                PostgresErrorCodes.UndefinedObject when pg.MessageText.Contains("role", StringComparison.OrdinalIgnoreCase) =>
                    Errors.Errors.NotFound(RotationErrorIds.DbUserNotFound, user ?? target, $"PostgreSQL at {target}: {pg.MessageText}.", ex),
                PostgresErrorCodes.DuplicateObject =>
                    new RotationException(RotationErrorIds.DbUserExists, RotationErrorCategory.ResourceExists, user ?? target,
                        $"PostgreSQL at {target}: {pg.MessageText}. Choose another -NewUser name, or remove the old role first.", ex),
                PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown =>
                    new RotationException(RotationErrorIds.DbUnreachable, RotationErrorCategory.ResourceUnavailable, target,
                        $"PostgreSQL at {target} did not accept a connection{who} ({pg.SqlState}: {pg.MessageText}). Retry later.", ex),
                _ => new RotationException(RotationErrorIds.DbCommandFailed, RotationErrorCategory.InvalidOperation, target,
                        $"PostgreSQL at {target} failed a statement{who} ({pg.SqlState}: {pg.MessageText}).", ex),
            };
        }
        if (IsTls(ex))
        {
            return new RotationException(RotationErrorIds.DbTlsFailed, RotationErrorCategory.SecurityError, target,
                $"TLS with PostgreSQL at {target} failed: {Innermost(ex).Message} Check -SslMode and the server's certificate.", ex);
        }
        if (IsUnreachable(ex))
        {
            return new RotationException(RotationErrorIds.DbUnreachable, RotationErrorCategory.ConnectionError, target,
                $"PostgreSQL at {target} is unreachable: {Innermost(ex).Message} Check -Server and -Port, and that the server listens there.", ex);
        }
        if (ex is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            return new RotationException(RotationErrorIds.DbCommandFailed, RotationErrorCategory.InvalidOperation, target,
                $"PostgreSQL at {target}: {ex.Message}", ex);
        }
        return new RotationException(RotationErrorIds.DbCommandFailed, RotationErrorCategory.NotSpecified, target, $"PostgreSQL at {target}: {ex.Message}", ex);
    }

    public static DbLoginOutcome Outcome(RotationException ex) => ex.ErrorId switch
    {
        RotationErrorIds.DbAuthenticationFailed => DbLoginOutcome.AuthenticationFailed,
        RotationErrorIds.DbUnreachable => DbLoginOutcome.Unreachable,
        RotationErrorIds.DbTlsFailed => DbLoginOutcome.Tls,
        _ => DbLoginOutcome.Other,
    };

    private static bool IsTls(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException
                || e.Message.Contains("SSL", StringComparison.Ordinal) || e.Message.Contains("TLS", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsUnreachable(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException or TimeoutException or IOException)
            {
                return true;
            }
        }
        return false;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex;
    }
}

using Npgsql;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Postgres;

/// <summary>Remove-RetiredDbUser's request.</summary>
public sealed class DbRetireRequest
{
    public required DbConnectionOptions Connection { get; init; }

    /// <summary>The rotated login or its family name (backend, backend_v3, app_a): every retired role of the family is considered.</summary>
    public required string User { get; init; }

    public required TimeSpan GracePeriod { get; init; }

    /// <summary>Terminate the retired login's sessions instead of refusing.</summary>
    public bool Force { get; init; }

    /// <summary>Reassign objects the retired login owns to this role instead of refusing.</summary>
    public string? ReassignTo { get; init; }

    /// <summary>After dropping, rename the successor to this (the standard) name.</summary>
    public string? RenameTo { get; init; }

    /// <summary>The store holding the current credential: its Previous version proves the old login dead; a rename updates it.</summary>
    public string? SecretUri { get; init; }
}

/// <summary>
/// Retires logins that a rotation marked retired (see <see cref="PgCatalog"/> for the marker): drops a NewUser
/// family's old role, disables (NOLOGIN) the idle login of an alternating pair, then proves a login as it fails.
/// Refuses, per role, while the grace period since retirement has not passed (GracePeriodNotElapsed), while it has
/// sessions (SessionsStillActive; -Force terminates them), or while it owns objects (DbUserOwnsObjects; -ReassignTo moves them).
/// </summary>
public static class DbRetirement
{
    /// <summary>The retired roles of <paramref name="user"/>'s family, as the caller's ShouldProcess targets.</summary>
    public static async Task<IReadOnlyList<(string User, DbRotationMarker Marker)>> FindRetiredAsync(NpgsqlConnection c, string target, string user, CancellationToken ct)
    {
        PgQuote.ValidateIdentifier(user, "user name");
        var families = new[] { DbUserRotationRunbook.BaseName(user, DbRotationStrategy.NewUser), DbUserRotationRunbook.BaseName(user, DbRotationStrategy.AlternatingUsers) }.Distinct();
        var found = new List<(string, DbRotationMarker)>();
        foreach (var family in families)
        {
            foreach (var role in await PgCatalog.RolesLikeAsync(c, family, ct).ConfigureAwait(false))
            {
                if (role != family && DbUserRotationRunbook.BaseName(role, DbRotationStrategy.NewUser) != family
                    && DbUserRotationRunbook.BaseName(role, DbRotationStrategy.AlternatingUsers) != family)
                {
                    continue;
                }
                if (await PgCatalog.MarkerAsync(c, role, ct).ConfigureAwait(false) is { State: "retired" } marker && found.All(f => f.Item1 != role))
                {
                    found.Add((role, marker));
                }
            }
        }
        if (found.Count == 0)
        {
            if (!await PgCatalog.RoleExistsAsync(c, user, ct).ConfigureAwait(false) && (await PgCatalog.RolesLikeAsync(c, user, ct).ConfigureAwait(false)).Count == 0)
            {
                throw PgCatalog.UserNotFound(user, c);
            }
            throw new RotationException(RotationErrorIds.DbUserNotRetired, RotationErrorCategory.InvalidOperation, user,
                $"No login of the '{user}' family on {target} is marked retired by a rotation, so nothing is removed. " +
                "Rotate it first (Invoke-DbUserRotation); Remove-RetiredDbUser only removes logins a rotation replaced.");
        }
        return found;
    }

    public static async Task<DbRetiredUser> RetireAsync(NpgsqlConnection c, DbRetireRequest request, string role, DbRotationMarker marker,
        RotationServices services, CancellationToken ct)
    {
        var target = request.Connection.TargetName;
        var now = services.Clock.GetUtcNow();
        var due = marker.At + request.GracePeriod;
        if (now < due)
        {
            throw new RotationException(RotationErrorIds.GracePeriodNotElapsed, RotationErrorCategory.InvalidOperation, role,
                $"'{role}' on {target} was retired at {marker.At:u} (run {marker.RunId}); with a grace period of {request.GracePeriod} it can go at {due:u}, " +
                $"in {(due - now):hh\\:mm\\:ss}. Nothing was changed; run again then.");
        }
        var alternating = marker.Strategy == nameof(DbRotationStrategy.AlternatingUsers);
        var terminated = 0;
        try
        {
            if (request.Force)
            {
                // No new session may start while the old ones are ended.
                await PgCatalog.ExecuteAsync(c, $"ALTER ROLE {PgQuote.Identifier(role)} NOLOGIN", ct).ConfigureAwait(false);
                terminated = await PgCatalog.TerminateSessionsAsync(c, role, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            }
            await RequireNoSessionsAsync(c, target, role, ct).ConfigureAwait(false);
            string? reassigned = null;
            if (!alternating)
            {
                var snapshot = await DbPrivilegeSnapshot.ReadAsync(c, role, ct).ConfigureAwait(false);
                if (snapshot.OwnedObjects.Count > 0)
                {
                    if (request.ReassignTo is null)
                    {
                        RequireOwnsNothing(target, role, snapshot.OwnedObjects);
                    }
                    reassigned = request.ReassignTo;
                }
                await DropRoleAsync(c, role, reassigned, ct).ConfigureAwait(false);
            }
            else
            {
                await PgCatalog.ExecuteAsync(c, $"ALTER ROLE {PgQuote.Identifier(role)} NOLOGIN", ct).ConfigureAwait(false);
                await PgCatalog.SetMarkerAsync(c, role, marker with { State = "disabled", At = now }, ct).ConfigureAwait(false);
            }

            string? renamed = null;
            if (request.RenameTo is { } newName && marker.Successor is { } successor && !alternating)
            {
                await RenameSuccessorAsync(c, request, successor, newName, services, ct).ConfigureAwait(false);
                renamed = newName;
            }

            var rejected = await ProveOldLoginFailsAsync(c, request, role, services, ct).ConfigureAwait(false);
            services.Audit.Write(new RotationAuditRecord
            {
                Timestamp = services.Clock.GetUtcNow(),
                Event = alternating ? "db.user_disabled" : "db.user_dropped",
                CredentialType = "postgresql-password",
                Target = $"{role}@{target}",
                PerformedBy = services.PerformedBy,
                Success = true,
                RunId = marker.RunId,
            });
            return new DbRetiredUser
            {
                Server = request.Connection.Host,
                Port = request.Connection.EffectivePort,
                Database = request.Connection.EffectiveDatabase,
                User = role,
                Action = alternating ? "Disabled" : "Dropped",
                RetiredAt = marker.At,
                Successor = marker.Successor,
                SessionsTerminated = terminated,
                ObjectsReassignedTo = reassigned,
                RenamedTo = renamed,
                OldLoginRejected = rejected,
            };
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PgErrors.Translate(ex, target, role);
        }
    }

    internal static async Task RequireNoSessionsAsync(NpgsqlConnection c, string target, string role, CancellationToken ct)
    {
        var sessions = await PgCatalog.SessionsAsync(c, role, ct).ConfigureAwait(false);
        if (sessions.Count > 0)
        {
            throw new RotationException(RotationErrorIds.SessionsStillActive, RotationErrorCategory.ResourceBusy, role,
                $"'{role}' still has {sessions.Count} session(s) on {target}: {string.Join("; ", sessions.Take(10))}. " +
                "Nothing was changed. Wait until its clients have moved to the new credential (Get-DbUserSession shows them), or pass -Force to terminate them.");
        }
    }

    internal static void RequireOwnsNothing(string target, string role, IReadOnlyList<string> owned)
    {
        if (owned.Count > 0)
        {
            throw new RotationException(RotationErrorIds.DbUserOwnsObjects, RotationErrorCategory.ResourceBusy, role,
                $"'{role}' owns {owned.Count} object(s) on {target}: {string.Join("; ", owned.Take(10))}{(owned.Count > 10 ? "; ..." : string.Empty)}. " +
                "Nothing was changed. Pass -ReassignTo <group role> to move them, or change their owner first.");
        }
    }

    /// <summary>REASSIGN (optional), DROP OWNED (revokes its grants here and on shared objects) and DROP ROLE, in one transaction.</summary>
    internal static async Task DropRoleAsync(NpgsqlConnection c, string role, string? reassignTo, CancellationToken ct)
    {
        var r = PgQuote.Identifier(role);
        var to = reassignTo is null ? null : PgQuote.Identifier(reassignTo);
        await PgCatalog.InTransactionAsync(c, async tx =>
        {
            if (to is not null)
            {
                await PgCatalog.ExecuteAsync(c, $"REASSIGN OWNED BY {r} TO {to}", ct, tx).ConfigureAwait(false);
            }
            await PgCatalog.ExecuteAsync(c, $"DROP OWNED BY {r}", ct, tx).ConfigureAwait(false);
            await PgCatalog.ExecuteAsync(c, $"DROP ROLE {r}", ct, tx).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    private static async Task RenameSuccessorAsync(NpgsqlConnection c, DbRetireRequest request, string successor, string newName, RotationServices services, CancellationToken ct)
    {
        PgQuote.ValidateIdentifier(newName, "new name");
        // SCRAM verifiers do not depend on the role name, so the password survives the rename (an MD5 one would not).
        await PgCatalog.ExecuteAsync(c, $"ALTER ROLE {PgQuote.Identifier(successor)} RENAME TO {PgQuote.Identifier(newName)}", ct).ConfigureAwait(false);
        if (request.SecretUri is null)
        {
            services.Log.Warning($"Renamed '{successor}' to '{newName}'. Update every copy of its credential: the user name changed.");
            return;
        }
        var store = services.OpenStore(request.SecretUri);
        var current = await store.GetAsync(SecretStage.Current, ct).ConfigureAwait(false);
        var login = DbCredentialShape.Read(current.Value, request.SecretUri);
        if (login.UserName == successor)
        {
            await store.PutAsync(DbCredentialShape.Write(newName, SecureStrings.ToPlainText(login.Password)), SecretStage.Current,
                new SecretWriteOptions { Description = $"renamed {successor} to {newName}" }, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Proof the retired login is dead: with the old password from the store's Previous version, a real login must be
    /// refused; without it, the role must be gone or NOLOGIN.
    /// </summary>
    private static async Task<bool> ProveOldLoginFailsAsync(NpgsqlConnection c, DbRetireRequest request, string role, RotationServices services, CancellationToken ct)
    {
        RotationCredential? old = null;
        if (request.SecretUri is not null)
        {
            try
            {
                var previous = await services.OpenStore(request.SecretUri).GetAsync(SecretStage.Previous, ct).ConfigureAwait(false);
                var login = DbCredentialShape.Read(previous.Value, request.SecretUri);
                old = login.UserName == role ? login : null;
            }
            catch (RotationException)
            {
            }
        }
        if (old is not null)
        {
            var (outcome, _) = await PgCatalog.TryLoginAsync(request.Connection, old, ct).ConfigureAwait(false);
            if (outcome != DbLoginOutcome.AuthenticationFailed)
            {
                throw new RotationException(RotationErrorIds.DbCommandFailed, RotationErrorCategory.InvalidResult, role,
                    $"After retiring '{role}' on {request.Connection.TargetName}, a login with its old password was not refused ({outcome}). Check the role by hand.");
            }
            return true;
        }
        var canLogin = await PgCatalog.ScalarAsync<bool?>(c, "select rolcanlogin from pg_roles where rolname = $1", ct, role).ConfigureAwait(false);
        return canLogin != true;
    }
}

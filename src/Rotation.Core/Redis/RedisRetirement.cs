using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;

namespace Rotation.Core.Redis;

/// <summary>What Remove-RetiredRedisCredential retires: usually built from a RedisAclRotation.</summary>
public sealed class RedisRetireRequest
{
    public required IReadOnlyList<RedisEndpoint> Endpoints { get; init; }

    public required RotationCredential AdminCredential { get; init; }

    public required RedisAclStrategy Strategy { get; init; }

    /// <summary>The user holding the old credential (DualPassword: the rotated user; NewUser: the old user).</summary>
    public required string PreviousUser { get; init; }

    /// <summary>The user holding the new credential; it must keep working.</summary>
    public required string NewUser { get; init; }

    /// <summary>Fingerprint of the new password: never removed.</summary>
    public required string KeepFingerprint { get; init; }

    /// <summary>Fingerprints of the old passwords to remove (DualPassword).</summary>
    public required IReadOnlyList<string> RetiredFingerprints { get; init; }

    public required DateTimeOffset RotatedAt { get; init; }

    public TimeSpan GracePeriod { get; init; }

    /// <summary>Kill clients still authenticated as the old user instead of refusing.</summary>
    public bool Force { get; init; }

    public bool Persist { get; init; } = true;

    public string? RunId { get; init; }

    public RedisConnectionOptions Options { get; init; } = RedisConnectionOptions.Default;

    public RedisRetireRequest WithPersist(bool persist) => new()
    {
        Endpoints = Endpoints,
        AdminCredential = AdminCredential,
        Strategy = Strategy,
        PreviousUser = PreviousUser,
        NewUser = NewUser,
        KeepFingerprint = KeepFingerprint,
        RetiredFingerprints = RetiredFingerprints,
        RotatedAt = RotatedAt,
        GracePeriod = GracePeriod,
        Force = Force,
        Persist = persist,
        RunId = RunId,
        Options = Options,
    };

    /// <summary>
    /// The same request rebuilt from a journaled run, when the rotation object is gone: the journal holds the nodes,
    /// user names and fingerprints (never a password), which is all retiring needs.
    /// </summary>
    public static RedisRetireRequest FromRun(RotationRun run, RotationCredential admin, TimeSpan gracePeriod, bool force, RedisConnectionOptions? options = null)
    {
        if (run.Kind != RedisAclRunbook.RunKind || run.Status != RunStatus.Succeeded)
        {
            throw new RotationException(RotationErrorIds.RunNotResumable, RotationErrorCategory.InvalidOperation, run.RunId,
                $"Run {run.RunId} is a {run.Kind} run in state {run.Status}; only a succeeded Redis ACL rotation has a credential to retire.");
        }
        var pre = run.Step("Preflight")!.Refs;
        var saved = RedisAclRunbook.Options(run);
        return new RedisRetireRequest
        {
            Endpoints = RedisAclRunbook.EndpointsOf(run),
            AdminCredential = admin,
            Strategy = RedisAclRunbook.StrategyOf(run),
            PreviousUser = pre[RedisAclRunbook.Refs.PreviousUser],
            NewUser = pre[RedisAclRunbook.Refs.NewUser],
            KeepFingerprint = run.Step("StorePending")!.Refs[RedisAclRunbook.Refs.Fingerprint],
            RetiredFingerprints = (pre.GetValueOrDefault(RedisAclRunbook.Refs.RetiredFingerprints) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries),
            RotatedAt = run.Step("VerifyLogin")?.EndedAt ?? run.UpdatedAt,
            GracePeriod = gracePeriod,
            Force = force,
            RunId = run.RunId,
            Options = options ?? saved,
        };
    }

    public static RedisRetireRequest From(RedisAclRotation rotation, RotationCredential admin, TimeSpan gracePeriod, bool force, RedisConnectionOptions? options = null) => new()
    {
        Endpoints = RedisEndpoint.ParseMany(rotation.Endpoint),
        AdminCredential = admin,
        Strategy = rotation.Strategy,
        PreviousUser = rotation.PreviousUser,
        NewUser = rotation.NewUser,
        KeepFingerprint = rotation.Credential.PasswordFingerprint,
        RetiredFingerprints = rotation.RetiredFingerprints,
        RotatedAt = rotation.RotatedAt,
        GracePeriod = gracePeriod,
        Force = force,
        RunId = rotation.RunId,
        Options = options ?? RedisConnectionOptions.Default,
    };
}

/// <summary>What retiring did, for -PassThru and tests.</summary>
public sealed class RedisRetirement
{
    public required string[] Endpoint { get; init; }

    public required string PreviousUser { get; init; }

    public required RedisAclStrategy Strategy { get; init; }

    /// <summary>Passwords removed (DualPassword) per node, or 1 per node where the old user was deleted.</summary>
    public required int Removed { get; init; }

    public required long ClientsKilled { get; init; }

    public required RedisPersistence Persistence { get; init; }

    public string? RunId { get; init; }
}

/// <summary>
/// Retires the old credential after the grace period. DualPassword removes the old password hashes (<c>!hash</c>,
/// read from the server: the journal keeps only 12-digit fingerprints, never a full hash) and keeps the new one;
/// NewUser deletes the old user, refusing while clients are still logged in as it unless forced, then proves the
/// old login fails. Idempotent: re-running after a partial failure finishes the remaining nodes.
/// </summary>
public static class RedisCredentialRetirer
{
    public static async Task<RedisRetirement> RetireAsync(RedisRetireRequest r, RotationServices services, CancellationToken cancellationToken = default)
    {
        var target = $"{r.PreviousUser}@{string.Join(",", r.Endpoints)}";
        var now = services.Clock.GetUtcNow();
        if (now - r.RotatedAt < r.GracePeriod)
        {
            var left = r.GracePeriod - (now - r.RotatedAt);
            throw new RotationException(RotationErrorIds.GracePeriodNotElapsed, RotationErrorCategory.ResourceBusy, r.PreviousUser,
                $"The old credential of '{r.PreviousUser}' was rotated at {r.RotatedAt:u}; its grace period of {r.GracePeriod} ends in {left:hh\\:mm\\:ss}. Run this again after {(r.RotatedAt + r.GracePeriod):u}.");
        }
        if (r.Strategy == RedisAclStrategy.RequirePass)
        {
            services.Log.Warning("RequirePass replaced the old password at rotation time; there is nothing left to retire.");
            return new RedisRetirement { Endpoint = Names(r), PreviousUser = r.PreviousUser, Strategy = r.Strategy, Removed = 0, ClientsKilled = 0, Persistence = RedisPersistence.None, RunId = r.RunId };
        }
        if (r.Strategy == RedisAclStrategy.NewUser && r.PreviousUser == r.NewUser)
        {
            throw Errors.Errors.InvalidArgument(r.PreviousUser, "A NewUser rotation must name a previous user different from the new one; refusing to delete the user in use.");
        }

        await using var nodes = await RedisNodeSet.OpenAsync(r.Endpoints, r.AdminCredential, r.Options, cancellationToken).ConfigureAwait(false);
        // Check every node before changing any: the new credential must be in place everywhere.
        var plans = new List<(RedisConnection Node, List<string> Hashes)>();
        foreach (var node in nodes.Nodes)
        {
            var keeper = await node.AclGetUserAsync(r.NewUser, cancellationToken).ConfigureAwait(false);
            if (keeper is null || !keeper.PasswordHashes.Any(h => RedisPasswordHash.FingerprintOfHash(h) == r.KeepFingerprint))
            {
                throw new RotationException(RotationErrorIds.RedisVerificationFailed, RotationErrorCategory.InvalidOperation, r.NewUser,
                    $"'{r.NewUser}' on {node.Endpoint} does not hold the new password ({r.KeepFingerprint}); nothing was retired. " +
                    "Was the rotation rolled back or rotated again since? Retire with the newest rotation's object.");
            }
            var hashes = new List<string>();
            if (r.Strategy == RedisAclStrategy.DualPassword)
            {
                var retired = new HashSet<string>(r.RetiredFingerprints, StringComparer.Ordinal);
                hashes = keeper.PasswordHashes
                    .Where(h => retired.Contains(RedisPasswordHash.FingerprintOfHash(h)) && RedisPasswordHash.FingerprintOfHash(h) != r.KeepFingerprint)
                    .ToList();
            }
            plans.Add((node, hashes));
        }

        long killed = 0;
        if (r.Strategy == RedisAclStrategy.NewUser)
        {
            var still = new List<string>();
            foreach (var node in nodes.Nodes)
            {
                var n = (await node.ClientListAsync(cancellationToken).ConfigureAwait(false)).Count(c => c.User == r.PreviousUser);
                if (n > 0)
                {
                    still.Add($"{n} on {node.Endpoint}");
                }
            }
            if (still.Count > 0 && !r.Force)
            {
                throw new RotationException(RotationErrorIds.RedisClientsStillConnected, RotationErrorCategory.ResourceBusy, r.PreviousUser,
                    $"Clients are still logged in as '{r.PreviousUser}' ({string.Join(", ", still)}); nothing was retired. Restart them with the new credential " +
                    "(Get-RedisUserClient lists them), or pass -Force to disconnect them.");
            }
        }

        var removed = 0;
        var modes = new List<RedisPersistence>();
        foreach (var (node, hashes) in plans)
        {
            if (r.Strategy == RedisAclStrategy.DualPassword)
            {
                if (hashes.Count > 0)
                {
                    await node.AclSetUserAsync(r.PreviousUser, hashes.Select(h => "!" + h), hashes, cancellationToken).ConfigureAwait(false);
                    removed += hashes.Count;
                }
            }
            else
            {
                if (r.Force)
                {
                    killed += await node.ClientKillUserAsync(r.PreviousUser, cancellationToken).ConfigureAwait(false) is var k and > 0 ? k : 0;
                }
                removed += (int)await node.AclDelUserAsync(r.PreviousUser, cancellationToken).ConfigureAwait(false);
            }
            var mode = await RedisAclRunbook.PersistenceModeAsync(node, cancellationToken).ConfigureAwait(false);
            modes.Add(await RedisAclRunbook.PersistNodeAsync(node, mode, r.Persist, cancellationToken).ConfigureAwait(false));
        }

        await ProveRetiredAsync(r, nodes, cancellationToken).ConfigureAwait(false);
        var persistence = modes.Min();
        services.Audit.Write(new RotationAuditRecord
        {
            Timestamp = services.Clock.GetUtcNow(),
            Event = "credential.retired",
            CredentialType = "redis-acl",
            Target = target,
            PerformedBy = services.PerformedBy,
            Reason = AuditReason.Routine,
            Success = true,
            RunId = r.RunId,
            Fingerprint = r.KeepFingerprint,
        });
        services.Log.Verbose($"Retired the old credential of '{r.PreviousUser}' on {string.Join(", ", r.Endpoints)} ({removed} removed, {killed} clients disconnected, persistence {persistence}).");
        return new RedisRetirement
        {
            Endpoint = Names(r),
            PreviousUser = r.PreviousUser,
            Strategy = r.Strategy,
            Removed = removed,
            ClientsKilled = killed,
            Persistence = persistence,
            RunId = r.RunId,
        };
    }

    /// <summary>
    /// The proof: no retired hash remains (DualPassword), or the old user is gone everywhere and a fresh login as it
    /// is refused (NewUser); and the new credential's user still holds its password.
    /// </summary>
    private static async Task ProveRetiredAsync(RedisRetireRequest r, RedisNodeSet nodes, CancellationToken ct)
    {
        foreach (var node in nodes.Nodes)
        {
            if (r.Strategy == RedisAclStrategy.DualPassword)
            {
                var u = await node.AclGetUserAsync(r.PreviousUser, ct).ConfigureAwait(false);
                var left = u?.PasswordHashes.Where(h => r.RetiredFingerprints.Contains(RedisPasswordHash.FingerprintOfHash(h)) && RedisPasswordHash.FingerprintOfHash(h) != r.KeepFingerprint).Count() ?? 0;
                if (left > 0)
                {
                    throw new RotationException(RotationErrorIds.RedisVerificationFailed, RotationErrorCategory.InvalidResult, r.PreviousUser,
                        $"{left} old password(s) of '{r.PreviousUser}' are still on {node.Endpoint} after removal; run this again.");
                }
                continue;
            }
            if (await node.AclGetUserAsync(r.PreviousUser, ct).ConfigureAwait(false) is not null)
            {
                throw new RotationException(RotationErrorIds.RedisVerificationFailed, RotationErrorCategory.InvalidResult, r.PreviousUser,
                    $"The old user '{r.PreviousUser}' still exists on {node.Endpoint} after ACL DELUSER; run this again.");
            }
            try
            {
                await using var probe = await RedisConnection.ConnectAsync(node.Endpoint, RotationCredential.FromPlainText(r.PreviousUser, SecretGenerator.NewPassword()), r.Options, ct).ConfigureAwait(false);
                throw new RotationException(RotationErrorIds.RedisVerificationFailed, RotationErrorCategory.InvalidResult, r.PreviousUser,
                    $"A login as the deleted user '{r.PreviousUser}' was accepted by {node.Endpoint}; check the server's ACL configuration.");
            }
            catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.RedisAuthenticationFailed)
            {
                // refused, as it must be
            }
        }
    }

    private static string[] Names(RedisRetireRequest r) => r.Endpoints.Select(e => e.ToString()).ToArray();
}

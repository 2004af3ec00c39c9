using Rotation.Core.Errors;

namespace Rotation.Core.Jwt;

/// <summary>
/// The lifecycle as pure functions from one ring to the next: each either returns the new ring or throws a
/// RotationException and changes nothing. The manager persists the result; these rules need no store to test.
/// </summary>
internal static class JwtKeyLifecycle
{
    /// <summary>
    /// Default -PublishLead: one hour. Covers common verifier caches of a JWKS (jwks-rsa 10 minutes, Spring and
    /// Nimbus 5-15 minutes, an HTTP max-age of an hour); Microsoft.IdentityModel refreshes every 12 hours but also
    /// on an unknown kid (at most every 5 minutes). Where signer and verifiers restart together from one secret
    /// (the CurrentAndOld layout) there is nothing to wait for: pass -PublishLead 0.
    /// </summary>
    public static readonly TimeSpan DefaultPublishLead = TimeSpan.FromHours(1);

    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromMinutes(5);

    public static JwtKeyRing Add(JwtKeyRing ring, JwtKey key, DateTimeOffset now, bool activate, string target)
    {
        if (key.Material is null)
        {
            throw JwtKeyFactory.Invalid(target, $"The key '{key.Kid}' carries no key material (a key read back from a ring, or a retired one); add a key made by New-JwtSigningKey.");
        }
        if (ring.Find(key.Kid) is { } existing)
        {
            throw new RotationException(RotationErrorIds.JwtKeyExists, RotationErrorCategory.ResourceExists, target,
                $"The key ring '{target}' already has a key with kid '{key.Kid}' ({existing.Status}); kids are never reused. Create a new key or give another -Kid.");
        }
        if (activate && !ring.IsEmpty)
        {
            throw JwtKeyFactory.Invalid(target, $"The key ring '{target}' already has keys (active: {ring.ActiveKid ?? "none"}); -Activate is only for the first key of an empty ring. Add the key as Next and switch with Switch-JwtSigningKey, so verifiers learn it first.");
        }
        if (ring.Next is { } next)
        {
            throw JwtKeyFactory.Invalid(target, $"The key ring '{target}' already has the Next key '{next.Kid}'; switch to it with Switch-JwtSigningKey or revoke it before adding another.");
        }
        var added = key with
        {
            Status = activate ? JwtKeyStatus.Active : JwtKeyStatus.Next,
            Version = ring.NextVersion,
            PublishedAt = now,
            ActivatedAt = activate ? now : null,
            RetiringSince = null,
            RetiredAt = null,
            Revoked = false,
            Uri = target,
        };
        return With(ring, ring.Keys.Append(added), nextVersion: ring.NextVersion + 1);
    }

    public static JwtKeyRing Switch(JwtKeyRing ring, DateTimeOffset now, TimeSpan publishLead, string target)
    {
        if (publishLead < TimeSpan.Zero)
        {
            throw Errors.Errors.InvalidArgument(target, "-PublishLead cannot be negative.");
        }
        var next = ring.Next ?? throw new RotationException(RotationErrorIds.JwtNoNextKey, RotationErrorCategory.InvalidOperation, target,
            $"The key ring '{target}' has no Next key to switch to (active: {ring.ActiveKid ?? "none"}). Add one first: New-JwtSigningKey | Add-JwtSigningKey -Uri {target}.");
        var eligible = next.PublishedAt!.Value + publishLead;
        if (now < eligible)
        {
            throw new RotationException(RotationErrorIds.JwtKeyPublishLeadNotElapsed, RotationErrorCategory.InvalidOperation, next.Kid,
                $"The Next key '{next.Kid}' of '{target}' was published at {next.PublishedAt:O}; verifiers may not have it until {eligible:O} " +
                $"(-PublishLead {publishLead}). Switch after that time ({Remaining(eligible - now)} from now), or pass a shorter -PublishLead if every verifier already has it.");
        }
        var old = ring.Active;
        var keys = ring.Keys.Select(k =>
            k.Kid == next.Kid ? k with { Status = JwtKeyStatus.Active, ActivatedAt = now }
            : old is not null && k.Kid == old.Kid ? k with { Status = JwtKeyStatus.Retiring, RetiringSince = now }
            : k);
        return With(ring, keys, lastSwitch: old is null ? null : new JwtKeySwitch { FromKid = old.Kid, ToKid = next.Kid, At = now });
    }

    /// <summary>The retiring keys whose grace has passed, and a JwtKeyStillInGrace error for each that has not.</summary>
    public static (JwtKeyRing Ring, IReadOnlyList<JwtKey> Removed, IReadOnlyList<RotationException> InGrace) RemoveRetired(
        JwtKeyRing ring, DateTimeOffset now, TimeSpan maxTokenLifetime, TimeSpan clockSkew, string? kid, string target)
    {
        if (maxTokenLifetime <= TimeSpan.Zero || clockSkew < TimeSpan.Zero)
        {
            throw Errors.Errors.InvalidArgument(target, "-MaxTokenLifetime must be positive (the longest lifetime of any token the keys signed: access or refresh) and -ClockSkew cannot be negative.");
        }
        var candidates = ring.Retiring;
        if (kid is not null)
        {
            var key = ring.Find(kid);
            if (key is null || !key.Verifies)
            {
                throw NotFound(ring, kid, target);
            }
            if (key.Status != JwtKeyStatus.Retiring)
            {
                throw JwtKeyFactory.Invalid(target, $"The key '{kid}' of '{target}' is {key.Status}, not Retiring; only a key that stopped signing can be removed after its grace. For a compromised key use Invoke-JwtKeyRevocation.");
            }
            candidates = [key];
        }
        var removed = new List<JwtKey>();
        var inGrace = new List<RotationException>();
        foreach (var key in candidates)
        {
            var eligible = key.RetiringSince!.Value + maxTokenLifetime + clockSkew;
            if (now >= eligible)
            {
                removed.Add(Tombstone(key, now, revoked: false));
            }
            else
            {
                inGrace.Add(new RotationException(RotationErrorIds.JwtKeyStillInGrace, RotationErrorCategory.InvalidOperation, key.Kid,
                    $"The key '{key.Kid}' of '{target}' stopped signing at {key.RetiringSince:O}; tokens it signed may be valid until {eligible:O} " +
                    $"(-MaxTokenLifetime {maxTokenLifetime} + -ClockSkew {clockSkew}). Remove it after that time ({Remaining(eligible - now)} from now). -Force does not shorten this."));
            }
        }
        var removedKids = removed.Select(k => k.Kid).ToHashSet(StringComparer.Ordinal);
        var keys = ring.Keys.Select(k => removedKids.Contains(k.Kid) ? removed.First(r => r.Kid == k.Kid) : k);
        var lastSwitch = ring.LastSwitch is { } s && removedKids.Contains(s.FromKid) ? null : ring.LastSwitch;
        return (removed.Count == 0 ? ring : With(ring, keys, lastSwitch: lastSwitch, keepSwitch: false), removed, inGrace);
    }

    public static JwtKeyRing Undo(JwtKeyRing ring, string target)
    {
        var s = ring.LastSwitch ?? throw NothingToUndo(target, "no switch is recorded");
        var from = ring.Find(s.FromKid);
        var to = ring.Find(s.ToKid);
        if (from?.Status != JwtKeyStatus.Retiring || to?.Status != JwtKeyStatus.Active)
        {
            throw NothingToUndo(target, $"the key '{s.FromKid}' that signed before the last switch no longer verifies (it was removed or revoked)");
        }
        if (ring.Next is { } next)
        {
            throw JwtKeyFactory.Invalid(target, $"The key ring '{target}' gained the Next key '{next.Kid}' after the last switch; revoke it first, or switch forward instead of undoing.");
        }
        var keys = ring.Keys.Select(k =>
            k.Kid == from.Kid ? k with { Status = JwtKeyStatus.Active, RetiringSince = null }
            : k.Kid == to.Kid ? k with { Status = JwtKeyStatus.Next, ActivatedAt = null }
            : k);
        return With(ring, keys, lastSwitch: null, keepSwitch: false);
    }

    /// <summary>Removes a key at once; when it was the Active key, <paramref name="replacement"/> becomes Active immediately.</summary>
    public static (JwtKeyRing Ring, JwtKey Revoked, JwtKey? Replacement) Revoke(JwtKeyRing ring, string kid, Func<JwtKey, JwtKey> replacement, DateTimeOffset now, string target)
    {
        var key = ring.Find(kid);
        if (key is null || !key.Verifies)
        {
            throw NotFound(ring, kid, target);
        }
        var revoked = Tombstone(key, now, revoked: true);
        var keys = ring.Keys.Select(k => k.Kid == kid ? revoked : k).ToList();
        JwtKey? added = null;
        var nextVersion = ring.NextVersion;
        if (key.Status == JwtKeyStatus.Active)
        {
            added = replacement(key) with
            {
                Status = JwtKeyStatus.Active,
                Version = nextVersion++,
                PublishedAt = now,
                ActivatedAt = now,
                Uri = target,
            };
            if (ring.Find(added.Kid) is not null)
            {
                throw new RotationException(RotationErrorIds.JwtKeyExists, RotationErrorCategory.ResourceExists, target,
                    $"The replacement key's kid '{added.Kid}' already exists in '{target}'; revoke without a fixed kid.");
            }
            keys.Add(added);
        }
        var lastSwitch = ring.LastSwitch is { } s && (s.FromKid == kid || s.ToKid == kid) ? null : ring.LastSwitch;
        return (With(ring, keys, nextVersion, lastSwitch, keepSwitch: false), revoked, added);
    }

    private static JwtKey Tombstone(JwtKey key, DateTimeOffset now, bool revoked) =>
        key with { Status = JwtKeyStatus.Retired, RetiredAt = now, Revoked = revoked, Material = null };

    private static JwtKeyRing With(JwtKeyRing ring, IEnumerable<JwtKey> keys, int? nextVersion = null, JwtKeySwitch? lastSwitch = null, bool keepSwitch = true)
    {
        var list = keys.ToList();
        var tombstones = list.Where(k => k.Status == JwtKeyStatus.Retired).OrderByDescending(k => k.RetiredAt).Skip(JwtKeyRingRules.MaxTombstones).ToHashSet();
        return new JwtKeyRing
        {
            Uri = ring.Uri,
            VersionId = ring.VersionId,
            UpdatedAt = ring.UpdatedAt,
            Integrity = ring.Integrity,
            NextVersion = nextVersion ?? ring.NextVersion,
            LastSwitch = lastSwitch ?? (keepSwitch ? ring.LastSwitch : null),
            Keys = list.Where(k => !tombstones.Contains(k)).ToList(),
        };
    }

    internal static RotationException NotFound(JwtKeyRing ring, string kid, string target)
    {
        var retired = ring.Find(kid) is { Status: JwtKeyStatus.Retired } r ? $" It was {(r.Revoked ? "revoked" : "retired")} at {r.RetiredAt:O}." : string.Empty;
        return Errors.Errors.NotFound(RotationErrorIds.JwtKeyNotFound, kid,
            $"The key ring '{target}' has no verifying key with kid '{kid}'.{retired} Keys: {string.Join(", ", ring.VerificationKeys.Select(k => $"{k.Kid} ({k.Status})"))}.");
    }

    private static RotationException NothingToUndo(string target, string why) =>
        new(RotationErrorIds.JwtNothingToUndo, RotationErrorCategory.InvalidOperation, target,
            $"There is no switch of '{target}' to undo: {why}. To stop using the active key now, use Invoke-JwtKeyRevocation.");

    private static string Remaining(TimeSpan t) => t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{Math.Ceiling(t.TotalSeconds)} s";
}

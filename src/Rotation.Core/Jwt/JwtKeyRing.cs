using Rotation.Core.Errors;

namespace Rotation.Core.Jwt;

/// <summary>
/// A JWT key ring as read from its store (DESIGN.md section 1: JwtKeyRing): every key with its lifecycle state.
/// The whole ring is one secret value; <see cref="VersionId"/> is the store version it was read from, which the
/// next update expects to still be current (optimistic concurrency).
/// </summary>
public sealed class JwtKeyRing
{
    public string? Uri { get; init; }

    /// <summary>The store version this ring was read from; null for a ring that does not exist yet.</summary>
    public string? VersionId { get; init; }

    public IReadOnlyList<JwtKey> Keys { get; init; } = [];

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>The last switch, kept so Undo-JwtSigningKey can roll it back while the old key still verifies.</summary>
    public JwtKeySwitch? LastSwitch { get; init; }

    /// <summary>"sha256:..." over the canonical document: detects accidental or naive edits (see JwtKeyRingSerializer).</summary>
    public string? Integrity { get; init; }

    internal int NextVersion { get; init; } = 1;

    public JwtKey? Active => Keys.FirstOrDefault(k => k.Status == JwtKeyStatus.Active);

    public JwtKey? Next => Keys.FirstOrDefault(k => k.Status == JwtKeyStatus.Next);

    public string? ActiveKid => Active?.Kid;

    public string? NextKid => Next?.Kid;

    /// <summary>Keys that no longer sign but still verify, newest first.</summary>
    public IReadOnlyList<JwtKey> Retiring => Keys.Where(k => k.Status == JwtKeyStatus.Retiring).OrderByDescending(k => k.RetiringSince).ToList();

    public IReadOnlyList<string> RetiringKids => Retiring.Select(k => k.Kid).ToList();

    /// <summary>Keys that verify tokens (Next, Active, Retiring): what JWKS and the layouts publish.</summary>
    public IReadOnlyList<JwtKey> VerificationKeys => Keys.Where(k => k.Verifies).ToList();

    public int KeyCount => VerificationKeys.Count;

    public bool IsEmpty => KeyCount == 0;

    public JwtKey? Find(string kid) => Keys.FirstOrDefault(k => string.Equals(k.Kid, kid, StringComparison.Ordinal));

    public override string ToString() => $"{Uri ?? "jwt key ring"}: {KeyCount} keys, active {ActiveKid ?? "none"}";
}

/// <summary>One switch: which key signed before and which signs since.</summary>
public sealed class JwtKeySwitch
{
    public required string FromKid { get; init; }

    public required string ToKid { get; init; }

    public required DateTimeOffset At { get; init; }
}

/// <summary>The invariants a ring keeps on load and before every save.</summary>
internal static class JwtKeyRingRules
{
    /// <summary>Retired tombstones kept for kid-reuse detection and history; older ones are dropped.</summary>
    public const int MaxTombstones = 50;

    public static void Check(JwtKeyRing ring, string target)
    {
        var kids = new HashSet<string>(StringComparer.Ordinal);
        var versions = new HashSet<int>();
        foreach (var key in ring.Keys)
        {
            JwtKeyFactory.CheckKey(key, target);
            if (!kids.Add(key.Kid))
            {
                throw new RotationException(RotationErrorIds.JwtKeyExists, RotationErrorCategory.ResourceExists, target,
                    $"The key ring '{target}' holds the kid '{key.Kid}' twice; every kid must be unique.");
            }
            if (key.Version < 1 || key.Version >= ring.NextVersion || !versions.Add(key.Version))
            {
                throw JwtKeyFactory.Invalid(target, $"The key '{key.Kid}' in '{target}' has the version {key.Version}, which is not unique or not below the ring's next version {ring.NextVersion}.");
            }
            var timeMissing = key.Status switch
            {
                JwtKeyStatus.Next => key.PublishedAt is null,
                JwtKeyStatus.Active => key.ActivatedAt is null || key.PublishedAt is null,
                JwtKeyStatus.Retiring => key.RetiringSince is null,
                _ => key.RetiredAt is null,
            };
            if (timeMissing)
            {
                throw JwtKeyFactory.Invalid(target, $"The {key.Status} key '{key.Kid}' in '{target}' lacks the time it entered that state.");
            }
        }
        var active = ring.Keys.Count(k => k.Status == JwtKeyStatus.Active);
        var next = ring.Keys.Count(k => k.Status == JwtKeyStatus.Next);
        var retiring = ring.Keys.Count(k => k.Status == JwtKeyStatus.Retiring);
        if (active > 1)
        {
            throw JwtKeyFactory.Invalid(target, $"The key ring '{target}' has {active} Active keys; exactly one key signs. Switch with Switch-JwtSigningKey instead of activating a second key.");
        }
        if (active == 0 && retiring > 0)
        {
            throw JwtKeyFactory.Invalid(target, $"The key ring '{target}' has Retiring keys but no Active key; exactly one key must sign.");
        }
        if (next > 1)
        {
            throw JwtKeyFactory.Invalid(target, $"The key ring '{target}' has {next} Next keys; at most one key waits to sign. Switch to it or revoke it before adding another.");
        }
    }
}

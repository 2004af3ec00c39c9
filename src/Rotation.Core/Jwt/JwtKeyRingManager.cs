using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Stores;

namespace Rotation.Core.Jwt;

/// <summary>
/// The ring operations behind the cmdlets: load, apply one lifecycle rule, save with optimistic concurrency, audit.
/// A refusal throws before anything is written, so the stored ring is unchanged. Each state change writes one audit
/// record per key it touched (kid and fingerprint, never material) after the ring is saved.
/// </summary>
public sealed class JwtKeyRingManager
{
    public const string CredentialType = "jwt-signing-key";

    private readonly JwtKeyRingStore _store;
    private readonly IAuditSink _audit;
    private readonly TimeProvider _clock;
    private readonly string? _performedBy;
    private readonly IRotationLog _log;

    public JwtKeyRingManager(ISecretStore store, IAuditSink audit, TimeProvider clock, string? performedBy = null, IRotationLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(clock);
        _store = new JwtKeyRingStore(store, clock);
        _audit = audit;
        _clock = clock;
        _performedBy = performedBy;
        _log = log ?? NullRotationLog.Instance;
    }

    public static JwtKeyRingManager Open(RotationServices services, string uri)
    {
        ArgumentNullException.ThrowIfNull(services);
        return new JwtKeyRingManager(services.OpenStore(uri), services.Audit, services.Clock, services.PerformedBy, services.Log);
    }

    public static TimeSpan DefaultPublishLead => JwtKeyLifecycle.DefaultPublishLead;

    public static TimeSpan DefaultClockSkew => JwtKeyLifecycle.DefaultClockSkew;

    public string Uri => _store.Uri;

    public Task<JwtKeyRing> GetAsync(CancellationToken cancellationToken = default) => _store.LoadAsync(cancellationToken);

    /// <summary>Adds a key as Next (published for verification, not signing); the first key of an empty ring may be activated.</summary>
    public async Task<JwtKey> AddAsync(JwtKey key, bool activate = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var ring = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var updated = JwtKeyLifecycle.Add(ring, key, _clock.GetUtcNow(), activate, Uri);
        var saved = await _store.SaveAsync(updated, $"JWT key ring: add {key.Kid}", cancellationToken).ConfigureAwait(false);
        var added = saved.Find(key.Kid)!;
        Audit(activate ? "jwt.key_added_active" : "jwt.key_published", added, AuditReason.Routine);
        _log.Verbose($"Added the {added.Algorithm} key '{added.Kid}' to '{Uri}' as {added.Status}.");
        return added;
    }

    /// <summary>Next becomes Active and the old Active becomes Retiring, once the Next key has been published for -PublishLead.</summary>
    public async Task<JwtKeyRing> SwitchAsync(TimeSpan? publishLead = null, CancellationToken cancellationToken = default)
    {
        var ring = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var updated = JwtKeyLifecycle.Switch(ring, _clock.GetUtcNow(), publishLead ?? DefaultPublishLead, Uri);
        var saved = await _store.SaveAsync(updated, $"JWT key ring: switch to {updated.ActiveKid}", cancellationToken).ConfigureAwait(false);
        Audit("jwt.key_activated", saved.Active!, AuditReason.Routine);
        if (saved.LastSwitch is { } s && saved.Find(s.FromKid) is { } old && ring.ActiveKid == old.Kid)
        {
            Audit("jwt.key_retiring", old, AuditReason.Routine);
        }
        return saved;
    }

    /// <summary>
    /// Turns Retiring keys whose retiring-since + MaxTokenLifetime + ClockSkew has passed into Retired tombstones
    /// (material erased). Keys still in grace are reported in the result; when none could be removed and some are
    /// in grace, throws the first JwtKeyStillInGrace.
    /// </summary>
    public async Task<JwtKeyRemovalResult> RemoveRetiredAsync(TimeSpan maxTokenLifetime, TimeSpan? clockSkew = null, string? kid = null, CancellationToken cancellationToken = default)
    {
        var ring = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var (updated, removed, inGrace) = JwtKeyLifecycle.RemoveRetired(ring, _clock.GetUtcNow(), maxTokenLifetime, clockSkew ?? DefaultClockSkew, kid, Uri);
        if (removed.Count == 0)
        {
            if (inGrace.Count > 0)
            {
                throw inGrace[0];
            }
            _log.Verbose($"The key ring '{Uri}' has no Retiring keys to remove.");
            return new JwtKeyRemovalResult { Ring = ring, Removed = [], StillInGrace = [] };
        }
        var saved = await _store.SaveAsync(updated, $"JWT key ring: remove {string.Join(", ", removed.Select(k => k.Kid))}", cancellationToken).ConfigureAwait(false);
        foreach (var key in removed)
        {
            Audit("jwt.key_removed", key, AuditReason.Routine);
        }
        return new JwtKeyRemovalResult { Ring = saved, Removed = removed.Select(k => saved.Find(k.Kid)!).ToList(), StillInGrace = inGrace };
    }

    /// <summary>Rolls back the last switch while the key that signed before it is still Retiring.</summary>
    public async Task<JwtKeyRing> UndoSwitchAsync(CancellationToken cancellationToken = default)
    {
        var ring = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var updated = JwtKeyLifecycle.Undo(ring, Uri);
        var saved = await _store.SaveAsync(updated, $"JWT key ring: undo switch, {updated.ActiveKid} signs again", cancellationToken).ConfigureAwait(false);
        Audit("jwt.switch_undone", saved.Active!, AuditReason.Rollback);
        return saved;
    }

    /// <summary>
    /// Emergency: removes a key at once, whatever its state. Every token it signed stops validating. When it was
    /// the Active key, a new key of the same algorithm and size becomes Active immediately (no publish lead: the
    /// compromised key must stop signing now).
    /// </summary>
    public async Task<JwtKeyRevocation> RevokeAsync(string kid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(kid);
        var ring = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        var (updated, revoked, replacement) = JwtKeyLifecycle.Revoke(ring, kid,
            // Same algorithm; RSA keeps its modulus size, HMAC gets the default 64 random bytes (an HMAC key's
            // KeySize is its text length, larger than its entropy, so copying it would grow the key every time).
            old => JwtKeyFactory.New(old.Algorithm, _clock, keySize: old.KeyType == JwtAlgorithmInfo.Rsa ? old.KeySize : null),
            _clock.GetUtcNow(), Uri);
        var saved = await _store.SaveAsync(updated, $"JWT key ring: emergency revocation of {kid}", cancellationToken).ConfigureAwait(false);
        Audit("jwt.key_revoked", revoked, AuditReason.Emergency);
        if (replacement is not null)
        {
            Audit("jwt.key_added_active", replacement, AuditReason.Emergency);
        }
        return new JwtKeyRevocation
        {
            Uri = Uri,
            Kid = kid,
            Fingerprint = revoked.Fingerprint,
            RevokedAt = revoked.RetiredAt!.Value,
            ReplacementKid = replacement?.Kid,
            Ring = saved,
        };
    }

    private void Audit(string evt, JwtKey key, AuditReason reason) => _audit.Write(new RotationAuditRecord
    {
        Timestamp = _clock.GetUtcNow(),
        Event = evt,
        CredentialType = CredentialType,
        Target = $"{Uri} kid {key.Kid}",
        PerformedBy = _performedBy,
        Reason = reason,
        Success = true,
        Fingerprint = key.Fingerprint,
    });
}

/// <summary>What Remove-RetiredJwtKey did: the keys it retired (tombstones) and one error per key still in grace.</summary>
public sealed class JwtKeyRemovalResult
{
    public required JwtKeyRing Ring { get; init; }

    public required IReadOnlyList<JwtKey> Removed { get; init; }

    public required IReadOnlyList<RotationException> StillInGrace { get; init; }
}

/// <summary>What Invoke-JwtKeyRevocation did.</summary>
public sealed class JwtKeyRevocation
{
    public required string Uri { get; init; }

    public required string Kid { get; init; }

    public required string Fingerprint { get; init; }

    public required DateTimeOffset RevokedAt { get; init; }

    /// <summary>The key that signs from now on, when the revoked key was the Active one.</summary>
    public string? ReplacementKid { get; init; }

    public required JwtKeyRing Ring { get; init; }

    public override string ToString() => $"{Kid} revoked; active {ReplacementKid ?? Ring.ActiveKid ?? "none"}";
}

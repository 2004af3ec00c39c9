using Rotation.Core.Errors;
using Rotation.Core.Jwt;

namespace Rotation.Core.Tests.Jwt;

public sealed class JwtKeyRingLifecycleTests
{
    public static TheoryData<JwtAlgorithm> AllAlgorithms() => new(Enum.GetValues<JwtAlgorithm>());

    private static readonly TimeSpan Lead = TimeSpan.FromHours(1);
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(24);

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public async Task Tokens_of_every_algorithm_validate_before_during_and_after_a_rotation(JwtAlgorithm alg)
    {
        var f = new RingFixture();
        var first = await f.Manager.AddAsync(f.NewKey(alg), activate: true);
        var before = f.Sign(first, TokenLifetime);
        Assert.True((await f.Test(before)).IsValid);

        var second = await f.Manager.AddAsync(f.NewKey(alg));
        Assert.Equal(JwtKeyStatus.Next, second.Status);
        Assert.True((await f.Test(before)).IsValid);
        f.Clock.Advance(Lead);
        await f.Manager.SwitchAsync(Lead);
        var during = f.Sign(second, TokenLifetime);
        var beforeResult = await f.Test(before);
        Assert.True(beforeResult.IsValid, beforeResult.Reason);
        Assert.Equal(JwtKeyStatus.Retiring, beforeResult.KeyStatus);
        Assert.Equal(second.Kid, (await f.Test(during)).VerifiedByKid);

        f.Clock.Advance(TokenLifetime + JwtKeyRingManager.DefaultClockSkew);
        var removal = await f.Manager.RemoveRetiredAsync(TokenLifetime);
        Assert.Equal([first.Kid], removal.Removed.Select(k => k.Kid));
        var after = f.Sign(second, TokenLifetime);
        Assert.True((await f.Test(during)).IsValid);
        Assert.True((await f.Test(after)).IsValid);

        // The removed key's tokens fail, even when re-signed with a fresh lifetime.
        var byRemoved = f.Sign(first, TokenLifetime);
        var result = await f.Test(byRemoved);
        Assert.False(result.IsValid);
        Assert.Equal(RotationErrorIds.JwtKeyNotFound, result.ErrorId);
        Assert.Contains("retired", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JwtAlgorithm.HS256)]
    [InlineData(JwtAlgorithm.ES256)]
    public async Task Full_rollover_never_rejects_a_token_within_its_lifetime(JwtAlgorithm alg)
    {
        var f = new RingFixture();
        var issued = new List<(string Token, DateTimeOffset Expires)>();
        var step = TimeSpan.FromMinutes(30);
        var lifetime = TimeSpan.FromHours(2);

        async Task IssueAndCheckAll()
        {
            var ring = await f.Manager.GetAsync();
            issued.Add((f.Sign(ring.Active!, lifetime), f.Clock.GetUtcNow() + lifetime));
            issued.Add((f.Sign(ring.Active!, lifetime, includeKid: false), f.Clock.GetUtcNow() + lifetime));
            var verifier = new JwtTokenVerifier(ring, f.Clock, new JwtTokenValidationOptions { ClockSkew = TimeSpan.Zero });
            foreach (var (token, expires) in issued.Where(t => t.Expires > f.Clock.GetUtcNow()))
            {
                var r = await verifier.TestAsync(token);
                Assert.True(r.IsValid, $"At {f.Clock.GetUtcNow():O} a token valid until {expires:O} was rejected: {r.Reason}");
            }
        }

        await f.Manager.AddAsync(f.NewKey(alg), activate: true);
        for (var round = 0; round < 3; round++)
        {
            await IssueAndCheckAll();
            await f.Manager.AddAsync(f.NewKey(alg));
            for (var t = TimeSpan.Zero; t < Lead; t += step)
            {
                f.Clock.Advance(step);
                await IssueAndCheckAll();
            }
            await f.Manager.SwitchAsync(Lead);
            await IssueAndCheckAll();
            // Try to retire at every step: refused until the grace has passed, never removing a needed key.
            var retired = false;
            while (!retired)
            {
                f.Clock.Advance(step);
                try
                {
                    retired = (await f.Manager.RemoveRetiredAsync(lifetime, TimeSpan.Zero)).Removed.Count > 0;
                }
                catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.JwtKeyStillInGrace)
                {
                }
                await IssueAndCheckAll();
            }
        }
        Assert.Equal(3, (await f.Manager.GetAsync()).Keys.Count(k => k.Status == JwtKeyStatus.Retired));
        Assert.True(issued.Count > 20);
    }

    [Fact]
    public async Task Switch_too_early_is_refused_and_leaves_the_ring_unchanged()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        var next = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        f.Clock.Advance(TimeSpan.FromMinutes(59));
        await AssertRefused(f, RotationErrorIds.JwtKeyPublishLeadNotElapsed, () => f.Manager.SwitchAsync());
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var ring = await f.Manager.SwitchAsync();
        Assert.Equal(next.Kid, ring.ActiveKid);
    }

    [Fact]
    public async Task Switch_without_a_next_key_is_refused()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        await AssertRefused(f, RotationErrorIds.JwtNoNextKey, () => f.Manager.SwitchAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task Retire_too_early_is_refused_even_by_a_kid_and_leaves_the_ring_unchanged()
    {
        var f = new RingFixture();
        var old = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.RS256), activate: true);
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.RS256));
        await f.Manager.SwitchAsync(TimeSpan.Zero);
        f.Clock.Advance(TokenLifetime);
        var ex = await AssertRefused(f, RotationErrorIds.JwtKeyStillInGrace, () => f.Manager.RemoveRetiredAsync(TokenLifetime));
        Assert.Equal(old.Kid, ex.TargetName);
        await AssertRefused(f, RotationErrorIds.JwtKeyStillInGrace, () => f.Manager.RemoveRetiredAsync(TokenLifetime, kid: old.Kid));
        f.Clock.Advance(JwtKeyRingManager.DefaultClockSkew);
        Assert.Single((await f.Manager.RemoveRetiredAsync(TokenLifetime, kid: old.Kid)).Removed);
    }

    [Fact]
    public async Task A_second_active_key_is_refused()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        await AssertRefused(f, RotationErrorIds.JwtKeyRingInvalid, () => f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true));
    }

    [Fact]
    public async Task A_second_active_key_written_into_the_document_is_refused_on_load_even_with_a_recomputed_hash()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        var ring = await f.Manager.GetAsync();
        var broken = new JwtKeyRing
        {
            Uri = ring.Uri,
            NextVersion = ring.NextVersion,
            Keys = ring.Keys.Select(k => k with { Status = JwtKeyStatus.Active, ActivatedAt = k.PublishedAt }).ToList(),
        };
        // Bypass the save-time check, as an attacker who recomputes the hash would.
        var text = JwtKeyRingSerializer.Serialize(broken, f.Clock.GetUtcNow());
        f.Store.Tamper(_ => text);
        var ex = await Assert.ThrowsAsync<RotationException>(() => f.Manager.GetAsync());
        Assert.Equal(RotationErrorIds.JwtKeyRingInvalid, ex.ErrorId);
    }

    [Fact]
    public async Task A_weak_hmac_key_is_refused()
    {
        var f = new RingFixture();
        var ex = Assert.Throws<RotationException>(() => JwtKeyFactory.New(JwtAlgorithm.HS512, f.Clock, keySize: 256));
        Assert.Equal(RotationErrorIds.JwtKeyTooWeak, ex.ErrorId);
        var ex2 = Assert.Throws<RotationException>(() => JwtKeyFactory.FromHmacSecret(JwtAlgorithm.HS256, new string('a', 31), f.Clock));
        Assert.Equal(RotationErrorIds.JwtKeyTooWeak, ex2.ErrorId);
        Assert.Equal(RotationErrorIds.JwtKeyTooWeak, Assert.Throws<RotationException>(() => JwtKeyFactory.New(JwtAlgorithm.RS256, f.Clock, keySize: 1024)).ErrorId);
    }

    [Fact]
    public async Task A_weak_hmac_key_in_the_document_is_refused_on_load()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(JwtKeyFactory.FromHmacSecret(JwtAlgorithm.HS256, new string('x', 32), f.Clock), activate: true);
        var ring = await f.Manager.GetAsync();
        var weak = ring.Keys[0] with { Algorithm = JwtAlgorithm.HS384 };
        f.Store.Tamper(_ => JwtKeyRingSerializer.Serialize(new JwtKeyRing { Uri = ring.Uri, NextVersion = ring.NextVersion, Keys = [weak] }, f.Clock.GetUtcNow()));
        Assert.Equal(RotationErrorIds.JwtKeyTooWeak, (await Assert.ThrowsAsync<RotationException>(() => f.Manager.GetAsync())).ErrorId);
    }

    [Fact]
    public async Task An_unknown_kid_is_refused()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.ES256), activate: true);
        await AssertRefused(f, RotationErrorIds.JwtKeyNotFound, () => f.Manager.RevokeAsync("no-such-kid"));
        await AssertRefused(f, RotationErrorIds.JwtKeyNotFound, () => f.Manager.RemoveRetiredAsync(TokenLifetime, kid: "no-such-kid"));
    }

    [Fact]
    public async Task A_duplicate_kid_is_refused()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256, "k1"), activate: true);
        await AssertRefused(f, RotationErrorIds.JwtKeyExists, () => f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256, "k1")));
    }

    [Theory]
    [InlineData("\"status\":\"Active\"", "\"status\":\"Retiring\"")]
    [InlineData("\"alg\":\"HS256\"", "\"alg\":\"HS512\"")]
    [InlineData("\"published\":\"2026", "\"published\":\"2025")]
    public async Task A_tampered_document_is_detected_and_nothing_is_written(string from, string to)
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        f.Store.Tamper(t => t.Replace(from, to, StringComparison.Ordinal));
        var version = f.Store.CurrentVersionId;
        var text = f.Store.CurrentText;
        Assert.Equal(RotationErrorIds.JwtKeyRingTampered, (await Assert.ThrowsAsync<RotationException>(() => f.Manager.GetAsync())).ErrorId);
        Assert.Equal(RotationErrorIds.JwtKeyRingTampered, (await Assert.ThrowsAsync<RotationException>(() => f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256)))).ErrorId);
        Assert.Equal(version, f.Store.CurrentVersionId);
        Assert.Equal(text, f.Store.CurrentText);
    }

    [Fact]
    public async Task A_document_that_is_not_a_ring_is_refused()
    {
        var f = new RingFixture();
        await f.Store.PutAsync(Rotation.Core.Secrets.SecretValue.FromText("{\"JWT_SECRET\":\"abc\"}"), Rotation.Core.Stores.SecretStage.Current, new());
        Assert.Equal(RotationErrorIds.JwtKeyRingInvalid, (await Assert.ThrowsAsync<RotationException>(() => f.Manager.GetAsync())).ErrorId);
    }

    [Fact]
    public async Task Undo_rolls_back_the_last_switch_while_the_old_key_is_retiring()
    {
        var f = new RingFixture();
        var old = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.PS256), activate: true);
        var next = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.PS256));
        await f.Manager.SwitchAsync(TimeSpan.Zero);
        var ring = await f.Manager.UndoSwitchAsync();
        Assert.Equal(old.Kid, ring.ActiveKid);
        Assert.Equal(next.Kid, ring.NextKid);
        Assert.Empty(ring.Retiring);
        Assert.Contains(f.Audit.Records, r => r.Event == "jwt.switch_undone" && r.Reason == Rotation.Core.Audit.AuditReason.Rollback);
        await AssertRefused(f, RotationErrorIds.JwtNothingToUndo, () => f.Manager.UndoSwitchAsync());
        // Once the old key is removed there is nothing to roll back to.
        await f.Manager.SwitchAsync(TimeSpan.Zero);
        f.Clock.Advance(TimeSpan.FromHours(2));
        await f.Manager.RemoveRetiredAsync(TimeSpan.FromHours(1));
        await AssertRefused(f, RotationErrorIds.JwtNothingToUndo, () => f.Manager.UndoSwitchAsync());
    }

    [Fact]
    public async Task Revocation_removes_the_key_at_once_and_makes_a_new_active_key()
    {
        var f = new RingFixture();
        var compromised = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS384), activate: true);
        var token = f.Sign(compromised, TokenLifetime);
        var revocation = await f.Manager.RevokeAsync(compromised.Kid);
        Assert.NotNull(revocation.ReplacementKid);
        Assert.Equal(revocation.ReplacementKid, revocation.Ring.ActiveKid);
        Assert.Equal(JwtAlgorithm.HS384, revocation.Ring.Active!.Algorithm);
        Assert.Equal(compromised.KeySize, revocation.Ring.Active.KeySize);
        var result = await f.Test(token);
        Assert.False(result.IsValid);
        Assert.Contains("revoked", result.Reason, StringComparison.Ordinal);
        Assert.Contains(f.Audit.Records, r => r.Event == "jwt.key_revoked" && r.Reason == Rotation.Core.Audit.AuditReason.Emergency && r.Fingerprint == compromised.Fingerprint);
        var tomb = revocation.Ring.Find(compromised.Kid)!;
        Assert.False(tomb.HasMaterial);
        Assert.True(tomb.Revoked);
        // Its kid is never reused.
        await AssertRefused(f, RotationErrorIds.JwtKeyExists, () => f.Manager.AddAsync(compromised));
    }

    [Fact]
    public async Task Concurrent_updates_one_wins_the_other_is_refused_and_changes_nothing()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        var other = new JwtKeyRingManager(f.Store, f.Audit, f.Clock);
        var winner = f.NewKey(JwtAlgorithm.HS256);
        var loser = f.NewKey(JwtAlgorithm.HS256);
        // The second writer lands between the first one's read and its write: the first must lose.
        f.Store.BeforeComplete = null;
        var ringBefore = await f.Manager.GetAsync();
        var store = new JwtKeyRingStore(f.Store, f.Clock);
        await other.AddAsync(winner);
        var stale = JwtKeyLifecycle.Add(ringBefore, loser, f.Clock.GetUtcNow(), activate: false, f.Store.Uri.Original);
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.SaveAsync(stale, "test", CancellationToken.None));
        Assert.Equal(RotationErrorIds.StoreWriteConflict, ex.ErrorId);
        var ring = await f.Manager.GetAsync();
        Assert.Equal(winner.Kid, ring.NextKid);
        Assert.Null(ring.Find(loser.Kid));
        Assert.False((await f.Store.DescribeAsync()).HasPending);
    }

    [Fact]
    public async Task Every_state_change_is_audited_with_kid_and_fingerprint()
    {
        var f = new RingFixture();
        var a = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        var b = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        await f.Manager.SwitchAsync(TimeSpan.Zero);
        f.Clock.Advance(TimeSpan.FromDays(2));
        await f.Manager.RemoveRetiredAsync(TokenLifetime);
        Assert.Equal(["jwt.key_added_active", "jwt.key_published", "jwt.key_activated", "jwt.key_retiring", "jwt.key_removed"], f.Audit.Records.Select(r => r.Event));
        Assert.All(f.Audit.Records, r => Assert.Equal(JwtKeyRingManager.CredentialType, r.CredentialType));
        Assert.Equal([a.Fingerprint, b.Fingerprint, b.Fingerprint, a.Fingerprint, a.Fingerprint], f.Audit.Records.Select(r => r.Fingerprint));
        Assert.Contains(b.Kid, f.Audit.Records[1].Target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_hands_back_parsed_fields_still_yields_the_same_ring()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.ES384), activate: true);
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.ES384));
        await f.Manager.SwitchAsync(TimeSpan.Zero);
        var asFields = Rotation.Core.Secrets.SecretValue.FromStoreText(f.Store.CurrentText, parseFields: true);
        Assert.True(asFields.IsFields);
        var ring = JwtKeyRingSerializer.Deserialize(JwtKeyRingSerializer.DocumentText(asFields), "x", "v");
        Assert.Equal((await f.Manager.GetAsync()).ActiveKid, ring.ActiveKid);
        Assert.NotNull(ring.LastSwitch);
    }

    [Fact]
    public async Task A_lease_left_by_a_crashed_ring_update_is_released_after_five_minutes_but_a_fresh_one_is_respected()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        // A crashed update: its Pending version stays, holding the lease (the in-memory store stamps real time).
        await f.Store.PutAsync(Rotation.Core.Secrets.SecretValue.FromText("{}"), Rotation.Core.Stores.SecretStage.Pending, new() { RunId = JwtKeyRingStore.RunIdPrefix + "crashed" });
        var fresh = new JwtKeyRingManager(f.Store, f.Audit, TimeProvider.System);
        Assert.Equal(RotationErrorIds.RotationInProgress, (await Assert.ThrowsAsync<RotationException>(() => fresh.AddAsync(f.NewKey(JwtAlgorithm.HS256)))).ErrorId);
        var later = new JwtKeyRingManager(f.Store, f.Audit, new ManualClock(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(6)));
        var added = await later.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        Assert.Equal(added.Kid, (await f.Manager.GetAsync()).NextKid);
    }

    [Fact]
    public async Task A_lease_held_by_another_rotation_is_never_released()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        await f.Store.PutAsync(Rotation.Core.Secrets.SecretValue.FromText("{}"), Rotation.Core.Stores.SecretStage.Pending, new() { RunId = "r-20261101T000000Z-abcd" });
        var later = new JwtKeyRingManager(f.Store, f.Audit, new ManualClock(DateTimeOffset.UtcNow + TimeSpan.FromDays(1)));
        Assert.Equal(RotationErrorIds.RotationInProgress, (await Assert.ThrowsAsync<RotationException>(() => later.AddAsync(f.NewKey(JwtAlgorithm.HS256)))).ErrorId);
    }

    private static async Task<RotationException> AssertRefused(RingFixture f, string errorId, Func<Task> call)
    {
        var version = f.Store.CurrentVersionId;
        var text = f.Store.CurrentText;
        var writes = f.Store.Writes;
        var audits = f.Audit.Records.Count;
        var ex = await Assert.ThrowsAsync<RotationException>(call);
        Assert.Equal(errorId, ex.ErrorId);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        Assert.Equal(version, f.Store.CurrentVersionId);
        Assert.Equal(text, f.Store.CurrentText);
        Assert.Equal(writes, f.Store.Writes);
        Assert.Equal(audits, f.Audit.Records.Count);
        Assert.False((await f.Store.DescribeAsync()).HasPending);
        return ex;
    }
}

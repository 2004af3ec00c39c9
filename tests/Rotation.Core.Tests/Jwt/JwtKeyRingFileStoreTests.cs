using Rotation.Core.Errors;
using Rotation.Core.Jwt;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Jwt;

/// <summary>The ring on the real embedded store (file://), as the seed pipeline uses it.</summary>
public sealed class JwtKeyRingFileStoreTests
{
    [Fact]
    public async Task Seed_pipeline_runs_against_the_file_store_and_refusals_leave_the_version_unchanged()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var uri = $"file://{dir.File("secrets.json")}#ticket-service/jwt-ring";
        var clock = ManualClock.At2026();
        var audit = new ListAuditSink();
        var store = SecretStoreRegistry.CreateDefault().Open(uri, new StoreContext { Clock = clock });
        var manager = new JwtKeyRingManager(store, audit, clock, "tester");

        var first = await manager.AddAsync(JwtKeyFactory.New(JwtAlgorithm.HS256, clock), activate: true);
        var second = await manager.AddAsync(JwtKeyFactory.New(JwtAlgorithm.HS256, clock));
        var version = (await manager.GetAsync()).VersionId;
        Assert.NotNull(version);

        var early = await Assert.ThrowsAsync<RotationException>(() => manager.SwitchAsync());
        Assert.Equal(RotationErrorIds.JwtKeyPublishLeadNotElapsed, early.ErrorId);
        Assert.Equal(version, (await manager.GetAsync()).VersionId);
        Assert.False((await store.DescribeAsync()).HasPending);

        var ring = await manager.SwitchAsync(TimeSpan.Zero);
        Assert.Equal(second.Kid, ring.ActiveKid);
        var layout = JwtKeyLayouts.Render(ring, JwtKeyLayoutKind.CurrentAndOld);
        Assert.Equal(first.Material!.HmacSecret, layout.PlainFields["JWT_SECRET_OLD"]);

        version = ring.VersionId;
        var grace = await Assert.ThrowsAsync<RotationException>(() => manager.RemoveRetiredAsync(TimeSpan.FromDays(1)));
        Assert.Equal(RotationErrorIds.JwtKeyStillInGrace, grace.ErrorId);
        Assert.Equal(version, (await manager.GetAsync()).VersionId);

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(5));
        var removal = await manager.RemoveRetiredAsync(TimeSpan.FromDays(1));
        Assert.Equal(first.Kid, Assert.Single(removal.Removed).Kid);

        // The store keeps the ring before the last change as Previous.
        var previous = await store.GetAsync(SecretStage.Previous);
        Assert.Contains(first.Material.HmacSecret!, previous.Value.ToStoreText(), StringComparison.Ordinal);
        Assert.DoesNotContain(first.Material.HmacSecret!, (await store.GetAsync(SecretStage.Current)).Value.ToStoreText(), StringComparison.Ordinal);

        var secrets = new[] { first.Material.HmacSecret!, second.Material!.HmacSecret! };
        LeakAssert.NoneOf(secrets, [("audit", audit.AsText()), ("errors", early + "\n" + grace)]);
    }

    [Fact]
    public async Task Two_processes_updating_one_ring_in_parallel_never_lose_an_update()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var uri = $"file://{dir.File("secrets.json")}#jwt-ring";
        var registry = SecretStoreRegistry.CreateDefault();
        var audit = new ListAuditSink();
        var first = new JwtKeyRingManager(registry.Open(uri), audit, TimeProvider.System);
        await first.AddAsync(JwtKeyFactory.New(JwtAlgorithm.HS256, TimeProvider.System), activate: true);

        // Eight writers race to add the one Next key: exactly one may win; the others are refused cleanly.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            var m = new JwtKeyRingManager(registry.Open(uri), audit, TimeProvider.System);
            try
            {
                await m.AddAsync(JwtKeyFactory.New(JwtAlgorithm.HS256, TimeProvider.System));
                return "ok";
            }
            catch (RotationException ex)
            {
                return ex.ErrorId;
            }
        }));
        Assert.Equal(1, results.Count(r => r == "ok"));
        Assert.All(results.Where(r => r != "ok"), r => Assert.Contains(r, new[] { RotationErrorIds.JwtKeyRingInvalid, RotationErrorIds.StoreWriteConflict, RotationErrorIds.RotationInProgress }));
        var ring = await first.GetAsync();
        Assert.NotNull(ring.NextKid);
        Assert.Equal(2, ring.KeyCount);
        Assert.False((await registry.Open(uri).DescribeAsync()).HasPending);
    }

    [Fact]
    public async Task Through_the_module_services_the_audit_log_and_state_folder_hold_no_key_material()
    {
        using var state = TestEnvironment.NewTempDirectory();
        using var stores = TestEnvironment.NewTempDirectory();
        var env = new Dictionary<string, string?> { [Rotation.Core.Runs.RotationPaths.StateDirVariable] = state.Path };
        var services = Rotation.Core.Runs.RotationEnvironment.CreateServices(Rotation.Core.Runs.NullRotationLog.Instance, name => env.GetValueOrDefault(name));
        var uri = $"file://{stores.File("secrets.json")}#jwt-ring";
        var manager = JwtKeyRingManager.Open(services, uri);
        var a = await manager.AddAsync(JwtKeyFactory.New(JwtAlgorithm.HS512, services.Clock), activate: true);
        var b = await manager.AddAsync(JwtKeyFactory.New(JwtAlgorithm.ES256, services.Clock));
        await manager.SwitchAsync(TimeSpan.Zero);
        await manager.UndoSwitchAsync();
        var revocation = await manager.RevokeAsync(a.Kid);
        var ring = await manager.GetAsync();
        var secrets = new List<string> { a.Material!.HmacSecret!, Convert.ToBase64String(b.Material!.Pkcs8!)[..60] };
        secrets.AddRange(JwtKeyMaterialTests.Secrets(ring));
        var captured = LeakAssert.FilesUnder(state.Path).ToList();
        Assert.Contains(captured, c => c.Text.Contains("jwt.key_revoked", StringComparison.Ordinal));
        captured.Add(("revocation", revocation.ToString()));
        captured.Add(("ring", ring.ToString()));
        LeakAssert.NoneOf(secrets, captured);
    }
}

using System.Globalization;
using Rotation.Core.Errors;
using Rotation.Core.Jwt;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Jwt;

public sealed class JwtKeyLayoutTests
{
    private static async Task<(RingFixture F, JwtKey Old, JwtKey New)> SwitchedRing(JwtAlgorithm alg)
    {
        var f = new RingFixture();
        var old = await f.Manager.AddAsync(f.NewKey(alg), activate: true);
        var next = await f.Manager.AddAsync(f.NewKey(alg));
        f.Clock.Advance(TimeSpan.FromHours(1));
        await f.Manager.SwitchAsync();
        return (f, old, next);
    }

    [Fact]
    public async Task CurrentAndOld_holds_the_signing_secret_and_the_newest_retiring_one()
    {
        var (f, old, next) = await SwitchedRing(JwtAlgorithm.HS256);
        var layout = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.CurrentAndOld);
        Assert.Equal(["JWT_SECRET", "JWT_SECRET_OLD"], layout.PlainFields.Keys.Order());
        // Set-RotationSecret -Fields is a non-generic IDictionary: the layout's map must bind to it.
        Assert.IsAssignableFrom<System.Collections.IDictionary>(layout.Fields);
        Assert.Equal(next.Material!.HmacSecret, layout.PlainFields["JWT_SECRET"]);
        Assert.Equal(old.Material!.HmacSecret, layout.PlainFields["JWT_SECRET_OLD"]);
        // A fresh ring has no old key: the field is absent, never an empty (forgeable) secret.
        var g = new RingFixture();
        await g.Manager.AddAsync(g.NewKey(JwtAlgorithm.HS256), activate: true);
        Assert.Equal(["JWT_SECRET"], JwtKeyLayouts.Render(await g.Manager.GetAsync(), JwtKeyLayoutKind.CurrentAndOld).PlainFields.Keys);
    }

    [Fact]
    public async Task The_layout_pipes_into_set_rotation_secret_shape_json_as_the_same_field_map()
    {
        var (f, _, _) = await SwitchedRing(JwtAlgorithm.HS256);
        var layout = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.CurrentAndOld);
        // What Set-RotationSecret -Shape Json does with the Fields it bound by property name.
        var value = Rotation.Core.Stores.SecretShaper.Shape(Rotation.Core.Stores.SecretShape.Json,
            new Rotation.Core.Stores.SecretShapeInput { Fields = (System.Collections.IDictionary)layout.Fields }, "file:///tmp/app.json#jwt-secret");
        Assert.Equal(layout.PlainFields.OrderBy(p => p.Key, StringComparer.Ordinal), value.Fields.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task CurrentNewDate_before_and_after_the_switch()
    {
        var f = new RingFixture();
        var a = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS512), activate: true);
        var b = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS512));
        var before = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.CurrentNewDate, TimeSpan.FromHours(1));
        Assert.Equal(a.Material!.HmacSecret, before.PlainFields["JWT_SECRET_CURRENT"]);
        Assert.Equal(b.Material!.HmacSecret, before.PlainFields["JWT_SECRET_NEW"]);
        var date = DateTimeOffset.Parse(before.PlainFields["JWT_SECRET_ROTATION_DATE"], CultureInfo.InvariantCulture);
        Assert.Equal(b.PublishedAt!.Value + TimeSpan.FromHours(1), date);
        Assert.EndsWith("Z", before.PlainFields["JWT_SECRET_ROTATION_DATE"], StringComparison.Ordinal);
        f.Clock.Advance(TimeSpan.FromHours(1));
        await f.Manager.SwitchAsync();
        var after = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.CurrentNewDate);
        Assert.Equal(a.Material.HmacSecret, after.PlainFields["JWT_SECRET_CURRENT"]);
        Assert.Equal(b.Material.HmacSecret, after.PlainFields["JWT_SECRET_NEW"]);
        Assert.True(DateTimeOffset.Parse(after.PlainFields["JWT_SECRET_ROTATION_DATE"], CultureInfo.InvariantCulture) <= f.Clock.GetUtcNow());
    }

    [Fact]
    public async Task VersionedWithActive_numbers_keys_stably_and_names_the_active_one()
    {
        var (f, old, next) = await SwitchedRing(JwtAlgorithm.HS256);
        var layout = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.VersionedWithActive);
        Assert.Equal(old.Material!.HmacSecret, layout.PlainFields["jwt-secret-v1"]);
        Assert.Equal(next.Material!.HmacSecret, layout.PlainFields["jwt-secret-v2"]);
        Assert.Equal("jwt-secret-v2", layout.PlainFields["active-key"]);
        f.Clock.Advance(TimeSpan.FromDays(3));
        await f.Manager.RemoveRetiredAsync(TimeSpan.FromDays(1));
        var third = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        var later = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.VersionedWithActive);
        Assert.Equal(["active-key", "jwt-secret-v2", "jwt-secret-v3"], later.PlainFields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(third.Material!.HmacSecret, later.PlainFields["jwt-secret-v3"]);
    }

    [Fact]
    public async Task PemFiles_writes_the_private_key_0600_and_public_keys_newest_first()
    {
        var (f, old, next) = await SwitchedRing(JwtAlgorithm.ES256);
        var third = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.ES256));
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("public-09-stale.pem"), "old");
        File.WriteAllText(dir.File("unrelated.txt"), "keep");
        var layout = JwtKeyLayouts.WritePemFiles(JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.PemFiles), dir.Path);
        Assert.Equal([$"private-{next.Kid}.pem", $"public-01-{third.Kid}.pem", $"public-02-{next.Kid}.pem", $"public-03-{old.Kid}.pem"], layout.PlainFields.Keys.Order(StringComparer.Ordinal));
        Assert.False(File.Exists(dir.File("public-09-stale.pem")));
        Assert.True(File.Exists(dir.File("unrelated.txt")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.File($"private-{next.Kid}.pem")));
        }
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(dir.File($"private-{next.Kid}.pem")), StringComparison.Ordinal);
        using var pub = System.Security.Cryptography.ECDsa.Create();
        pub.ImportFromPem(File.ReadAllText(dir.File($"public-03-{old.Kid}.pem")));
        Assert.Equal(old.PublicJwk!["x"], Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(pub.ExportParameters(false).Q.X));
        Assert.Equal(4, layout.Files.Count);
    }

    [Fact]
    public async Task PemFiles_refuses_an_hmac_ring()
    {
        var f = new RingFixture();
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        Assert.Equal(RotationErrorIds.JwtKeyLayoutUnsupported, Assert.Throws<RotationException>(() => JwtKeyLayouts.Render(f.Manager.GetAsync().Result, JwtKeyLayoutKind.PemFiles)).ErrorId);
    }

    [Fact]
    public async Task Jwks_layout_and_an_empty_ring()
    {
        var (f, _, _) = await SwitchedRing(JwtAlgorithm.RS256);
        var layout = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.Jwks);
        Assert.Equal(["jwks.json"], layout.PlainFields.Keys);
        Assert.Equal(RotationErrorIds.JwtKeyNotFound, Assert.Throws<RotationException>(() => JwtKeyLayouts.Render(new JwtKeyRing { Uri = "x" }, JwtKeyLayoutKind.CurrentAndOld)).ErrorId);
    }

    [Fact]
    public async Task Asymmetric_layouts_give_the_signer_a_private_pem_and_the_old_key_only_a_public_one()
    {
        var (f, _, _) = await SwitchedRing(JwtAlgorithm.RS256);
        var layout = JwtKeyLayouts.Render(await f.Manager.GetAsync(), JwtKeyLayoutKind.CurrentAndOld);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", layout.PlainFields["JWT_SECRET"], StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", layout.PlainFields["JWT_SECRET_OLD"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_secret_leaks_into_messages_audit_tostring_or_the_jwks()
    {
        var (f, old, _) = await SwitchedRing(JwtAlgorithm.HS256);
        var captured = new List<(string, string)>();
        var ring = await f.Manager.GetAsync();
        var secrets = JwtKeyMaterialTests.Secrets(ring).ToList();
        foreach (var kind in Enum.GetValues<JwtKeyLayoutKind>().Where(k => k != JwtKeyLayoutKind.PemFiles))
        {
            captured.Add(($"layout {kind} ToString", JwtKeyLayouts.Render(ring, kind).ToString()));
        }
        captured.Add(("ring ToString", ring.ToString()));
        captured.AddRange(ring.Keys.Select(k => ($"key {k.Kid} ToString", k.ToString())));
        captured.Add(("key material ToString", ring.Keys[0].Material!.ToString()));
        foreach (var call in new Func<Task>[]
        {
            () => f.Manager.SwitchAsync(),
            () => f.Manager.RemoveRetiredAsync(TimeSpan.FromHours(1)),
            () => f.Manager.AddAsync(old),
            () => f.Manager.RevokeAsync("nope"),
        })
        {
            var ex = await Assert.ThrowsAsync<RotationException>(call);
            captured.Add(($"error {ex.ErrorId}", ex.ToString()));
        }
        f.Store.Tamper(t => t.Replace("\"status\":\"Active\"", "\"status\":\"Next\"", StringComparison.Ordinal));
        captured.Add(("tampered error", (await Assert.ThrowsAsync<RotationException>(() => f.Manager.GetAsync())).ToString()));
        f.Store.Tamper(t => t[..(t.Length / 2)]);
        captured.Add(("truncated error", (await Assert.ThrowsAsync<RotationException>(() => f.Manager.GetAsync())).ToString()));
        captured.Add(("audit", f.Audit.AsText()));
        Assert.NotEmpty(secrets);
        LeakAssert.NoneOf(secrets, captured);
    }
}

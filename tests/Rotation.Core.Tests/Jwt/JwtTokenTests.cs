using Rotation.Core.Errors;
using Rotation.Core.Jwt;

namespace Rotation.Core.Tests.Jwt;

public sealed class JwtTokenTests
{
    [Fact]
    public async Task Test_says_which_key_verified_a_token_with_and_without_kid()
    {
        var f = new RingFixture();
        var a = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        var b = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        var withKid = await f.Test(f.Sign(b, TimeSpan.FromMinutes(5)));
        Assert.True(withKid.IsValid);
        Assert.Equal(b.Kid, withKid.VerifiedByKid);
        Assert.Equal(JwtKeyStatus.Next, withKid.KeyStatus);
        var noKid = await f.Test(f.Sign(a, TimeSpan.FromMinutes(5), includeKid: false));
        Assert.True(noKid.IsValid, noKid.Reason);
        Assert.Null(noKid.Kid);
        Assert.Equal(a.Kid, noKid.VerifiedByKid);
    }

    [Fact]
    public async Task Test_explains_why_a_token_fails()
    {
        var f = new RingFixture();
        var a = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.RS256), activate: true);
        var stranger = f.NewKey(JwtAlgorithm.RS256);
        Assert.Equal(RotationErrorIds.JwtTokenMalformed, (await f.Test("not a token")).ErrorId);
        Assert.Equal(RotationErrorIds.JwtKeyNotFound, (await f.Test(f.Sign(stranger, TimeSpan.FromMinutes(5)))).ErrorId);
        Assert.Equal("SignatureInvalid", (await f.Test(f.Sign(stranger, TimeSpan.FromMinutes(5), includeKid: false))).ErrorId);
        var token = f.Sign(a, TimeSpan.FromMinutes(5));
        f.Clock.Advance(TimeSpan.FromMinutes(11));
        var expired = await f.Test(token);
        Assert.False(expired.IsValid);
        Assert.Equal("Expired", expired.ErrorId);
        var ignoring = await new JwtTokenVerifier(await f.Manager.GetAsync(), f.Clock, new JwtTokenValidationOptions { ValidateLifetime = false }).TestAsync(token);
        Assert.True(ignoring.IsValid);
        // A forged signature part.
        var parts = f.Sign(a, TimeSpan.FromMinutes(5)).Split('.');
        var forged = $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA";
        Assert.Equal("SignatureInvalid", (await f.Test(forged)).ErrorId);
    }

    [Fact]
    public async Task Algorithm_confusion_is_refused()
    {
        var f = new RingFixture();
        var hs = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        // The same secret used with HS512 under the HS256 key's kid: the ring pins each key to its algorithm.
        var creds = new Microsoft.IdentityModel.Tokens.SigningCredentials(
            new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(hs.Material!.HmacKeyBytes) { KeyId = hs.Kid }, "HS512");
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Expires = f.Clock.GetUtcNow().UtcDateTime.AddMinutes(5),
            SigningCredentials = creds,
        });
        var r = await new JwtTokenVerifier(await f.Manager.GetAsync(), f.Clock, new JwtTokenValidationOptions { ValidateLifetime = false }).TestAsync(token);
        Assert.False(r.IsValid);
        Assert.Equal("AlgorithmMismatch", r.ErrorId);
    }

    [Fact]
    public async Task Measure_counts_tokens_per_key_from_log_lines_and_gates_on_the_threshold()
    {
        var f = new RingFixture();
        var old = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256), activate: true);
        var next = await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.HS256));
        await f.Manager.SwitchAsync(TimeSpan.Zero);
        var ring = await f.Manager.GetAsync();
        var lines = new List<string>();
        for (var i = 0; i < 19; i++)
        {
            lines.Add($"2026-11-01T12:00:{i:00}Z GET /api authorization=Bearer {f.Sign(next, TimeSpan.FromHours(1), includeKid: i % 2 == 0)} status=200");
        }
        lines.Add($"GET /api Bearer {f.Sign(old, TimeSpan.FromHours(1), includeKid: false)}");
        lines.Add("no token on this line");
        var report = JwtKeyUsageMeter.Measure(ring, lines, 0.95);
        Assert.Equal(21, report.LinesRead);
        Assert.Equal(20, report.TokenCount);
        Assert.Equal(next.Kid, report.ActiveKid);
        Assert.Equal(0.95, report.ActiveShare, 3);
        Assert.True(report.MeetsThreshold);
        Assert.Equal(1, report.Keys.Single(k => k.Kid == old.Kid).Count);
        Assert.Equal("signature", report.Keys.Single(k => k.Kid == old.Kid).MatchedBy);

        lines.Add(f.Sign(f.NewKey(JwtAlgorithm.HS256), TimeSpan.FromHours(1), includeKid: false));
        var lower = JwtKeyUsageMeter.Measure(ring, lines, 0.95);
        Assert.False(lower.MeetsThreshold);
        Assert.Equal(1, lower.Keys.Single(k => k.Kid == JwtKeyUsageMeter.Unmatched).Count);
        Assert.False(JwtKeyUsageMeter.Measure(ring, ["nothing"], 0.5).MeetsThreshold);

        using var dir = Infrastructure.TestEnvironment.NewTempDirectory();
        File.WriteAllLines(dir.File("access.log"), lines);
        Assert.Equal(21, JwtKeyUsageMeter.Measure(ring, JwtKeyUsageMeter.ReadLines([dir.File("access.log")])).TokenCount);
        var missing = Assert.Throws<RotationException>(() => JwtKeyUsageMeter.Measure(ring, JwtKeyUsageMeter.ReadLines([dir.File("missing.log")])));
        Assert.Equal(RotationErrorIds.InvalidArgument, missing.ErrorId);
    }

    [Theory]
    [InlineData(JwtAlgorithm.RS384)]
    [InlineData(JwtAlgorithm.PS256)]
    [InlineData(JwtAlgorithm.ES512)]
    [InlineData(JwtAlgorithm.HS512)]
    public async Task Measure_matches_kidless_tokens_of_every_family_by_signature(JwtAlgorithm alg)
    {
        var f = new RingFixture();
        var a = await f.Manager.AddAsync(f.NewKey(alg), activate: true);
        var b = await f.Manager.AddAsync(f.NewKey(alg));
        var report = JwtKeyUsageMeter.Measure(await f.Manager.GetAsync(), [f.Sign(b, TimeSpan.FromHours(1), includeKid: false), f.Sign(a, TimeSpan.FromHours(1), includeKid: false)]);
        Assert.Equal(1, report.Keys.Single(k => k.Kid == a.Kid).Count);
        Assert.Equal(1, report.Keys.Single(k => k.Kid == b.Kid).Count);
    }
}

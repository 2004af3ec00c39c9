using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Jwt;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Jwt;

public sealed class JwtKeyMaterialTests
{
    public static TheoryData<JwtAlgorithm> AllAlgorithms() => new(Enum.GetValues<JwtAlgorithm>());

    [Fact]
    public void Thumbprint_matches_the_rfc7638_example()
    {
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["e"] = "AQAB",
            ["alg"] = "RS256",
            ["n"] = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        };
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", JwtKeyFactory.Thumbprint(jwk));
    }

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void New_keys_get_the_thumbprint_as_kid_and_the_default_sizes(JwtAlgorithm alg)
    {
        var key = JwtKeyFactory.New(alg, TimeProvider.System);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", key.Kid);
        Assert.Equal(JwtKeyStatus.Next, key.Status);
        var expectedBits = alg.ToString()[..2] switch { "HS" => 688, "ES" => JwtAlgorithmInfo.CurveBits(alg), _ => 2048 };
        Assert.Equal(expectedBits, key.KeySize); // HMAC: 64 random bytes as 86 base64url characters
        Assert.Equal("fixed-kid", JwtKeyFactory.New(alg, TimeProvider.System, "fixed-kid").Kid);
        Assert.Equal(JwtKeyFactory.Thumbprint(key.PublicJwk ?? new Dictionary<string, string> { ["kty"] = "oct", ["k"] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(key.Material!.HmacKeyBytes) }), key.Kid);
        Assert.DoesNotContain("secret", key.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Hmac_thumbprint_is_of_the_oct_jwk()
    {
        var key = JwtKeyFactory.FromHmacSecret(JwtAlgorithm.HS256, "0123456789abcdef0123456789abcdef", TimeProvider.System);
        var k = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("0123456789abcdef0123456789abcdef"u8.ToArray());
        var expected = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{{\"k\":\"{k}\",\"kty\":\"oct\"}}")));
        Assert.Equal(expected, key.Kid);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("../escape")]
    [InlineData("")]
    public void Unsafe_kids_are_refused(string kid)
    {
        var ex = Assert.Throws<RotationException>(() => JwtKeyFactory.New(JwtAlgorithm.HS256, TimeProvider.System, kid));
        Assert.Equal(RotationErrorIds.JwtKeyRingInvalid, ex.ErrorId);
    }

    [Fact]
    public void Ec_key_size_must_match_the_curve()
    {
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => JwtKeyFactory.New(JwtAlgorithm.ES256, TimeProvider.System, keySize: 384)).ErrorId);
    }

    [Fact]
    public void A_private_key_of_the_wrong_type_is_refused()
    {
        using var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        Assert.Equal(RotationErrorIds.JwtKeyRingInvalid, Assert.Throws<RotationException>(() => JwtKeyFactory.FromPkcs8(JwtAlgorithm.RS256, ec.ExportPkcs8PrivateKey(), TimeProvider.System)).ErrorId);
        Assert.Equal(RotationErrorIds.JwtKeyRingInvalid, Assert.Throws<RotationException>(() => JwtKeyFactory.FromPkcs8(JwtAlgorithm.ES256, ec.ExportPkcs8PrivateKey(), TimeProvider.System)).ErrorId);
    }

    [Fact]
    public async Task Export_jwks_never_contains_private_or_symmetric_members_for_any_algorithm()
    {
        var f = new RingFixture();
        var algs = Enum.GetValues<JwtAlgorithm>();
        // One ring holding every algorithm in every verifying state.
        await f.Manager.AddAsync(f.NewKey(algs[0]), activate: true);
        foreach (var alg in algs.Skip(1))
        {
            await f.Manager.AddAsync(f.NewKey(alg));
            await f.Manager.SwitchAsync(TimeSpan.Zero);
        }
        await f.Manager.AddAsync(f.NewKey(JwtAlgorithm.RS512));
        var ring = await f.Manager.GetAsync();
        var jwks = Jwks.Export(ring);
        using var doc = JsonDocument.Parse(jwks.Json);
        var keys = doc.RootElement.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal(ring.VerificationKeys.Count(k => !JwtAlgorithmInfo.IsHmac(k.Algorithm)), keys.Count);
        string[] forbidden = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];
        foreach (var key in keys)
        {
            var names = key.EnumerateObject().Select(p => p.Name).ToList();
            Assert.Empty(names.Intersect(forbidden));
            Assert.Equal("sig", key.GetProperty("use").GetString());
            Assert.NotEqual("oct", key.GetProperty("kty").GetString());
        }
        Assert.Equal(algs.Where(a => !JwtAlgorithmInfo.IsHmac(a)).Select(a => a.ToString()).Order(), keys.Select(k => k.GetProperty("alg").GetString()!).Distinct().Order());

        // Every key published in the JWKS verifies its own tokens through IdentityModel's JsonWebKeySet.
        var set = new Microsoft.IdentityModel.Tokens.JsonWebKeySet(jwks.Json);
        foreach (var key in ring.VerificationKeys.Where(k => !JwtAlgorithmInfo.IsHmac(k.Algorithm)))
        {
            var token = f.Sign(key, TimeSpan.FromMinutes(5));
            var result = await new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ValidateTokenAsync(token, new Microsoft.IdentityModel.Tokens.TokenValidationParameters
            {
                IssuerSigningKeys = set.GetSigningKeys(),
                ValidateIssuer = false,
                ValidateAudience = false,
                ValidateLifetime = false,
            });
            Assert.True(result.IsValid, $"{key.Algorithm}: {result.Exception?.GetType().Name}");
        }
        LeakAssert.NoneOf(Secrets(ring), [("jwks", jwks.Json)]);
    }

    internal static IEnumerable<string> Secrets(JwtKeyRing ring) =>
        ring.Keys.Where(k => k.Material is not null).SelectMany(k => new[]
        {
            k.Material!.HmacSecret ?? string.Empty,
            k.Material.Pkcs8 is { } p ? Convert.ToBase64String(p)[..64] : string.Empty,
            k.Material.Pkcs8 is { } q ? JwtKeyCrypto.PrivatePem(k).Split('\n')[2] : string.Empty,
        });
}

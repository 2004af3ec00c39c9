using System.Security.Cryptography;
using System.Text;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Secrets;

public sealed class KeyPairTests
{
    /// <summary>RFC 7638 section 3.1: the published example key and its thumbprint.</summary>
    [Fact]
    public void Thumbprint_matches_the_RFC_7638_example()
    {
        const string n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        var jwk = JwkPublicParameters.ForRsa(n, "AQAB");
        Assert.Equal("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" + n + "\"}", jwk.ToCanonicalJson());
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", jwk.Thumbprint());

        // The same key imported into .NET and exported again gives the same thumbprint.
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = Base64Url.Decode(n), Exponent = Base64Url.Decode("AQAB") });
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", JwkPublicParameters.From(rsa.ExportParameters(false)).Thumbprint());
    }

    [Theory]
    [InlineData(2048)]
    [InlineData(3072)]
    [InlineData(4096)]
    public void Rsa_pairs_have_the_requested_size_and_sign(int bits)
    {
        using var pair = KeyPairGenerator.Generate(KeyAlgorithm.RSA, bits);
        Assert.Equal(bits, pair.KeySize);
        Assert.Equal(bits, pair.Rsa!.KeySize);
        Assert.Equal("RSA", pair.PublicJwk.Kty);
        Assert.Equal(bits / 8, Base64Url.Decode(pair.PublicJwk.N!).Length);
        Assert.Equal("AQAB", pair.PublicJwk.E);
        AssertSignsAndVerifiesWithPublicPem(pair);
    }

    [Theory]
    [InlineData("P-256", 256, 32)]
    [InlineData("P-384", 384, 48)]
    [InlineData("P-521", 521, 66)]
    public void Ec_pairs_are_on_the_requested_curve_with_full_length_coordinates(string curve, int bits, int coordinateBytes)
    {
        using var pair = KeyPairGenerator.Generate(curve: curve);
        Assert.Equal(KeyAlgorithm.EC, pair.Algorithm);
        Assert.Equal(bits, pair.KeySize);
        Assert.Equal(curve, pair.Curve);
        Assert.Equal(curve, pair.PublicJwk.Crv);
        Assert.Equal(coordinateBytes, Base64Url.Decode(pair.PublicJwk.X!).Length);
        Assert.Equal(coordinateBytes, Base64Url.Decode(pair.PublicJwk.Y!).Length);
        Assert.Equal($"{{\"crv\":\"{curve}\",\"kty\":\"EC\",\"x\":\"{pair.PublicJwk.X}\",\"y\":\"{pair.PublicJwk.Y}\"}}", pair.PublicJwk.ToCanonicalJson());
        AssertSignsAndVerifiesWithPublicPem(pair);
    }

    [Fact]
    public void Defaults_are_RSA_3072_and_P256()
    {
        using var rsa = KeyPairGenerator.Generate();
        Assert.Equal((KeyAlgorithm.RSA, 3072), (rsa.Algorithm, rsa.KeySize));
        using var ec = KeyPairGenerator.Generate(KeyAlgorithm.EC);
        Assert.Equal("P-256", ec.Curve);
    }

    [Theory]
    [InlineData(KeyAlgorithm.RSA, 1024, null)]
    [InlineData(KeyAlgorithm.RSA, null, "P-256")]
    [InlineData(KeyAlgorithm.EC, 256, null)]
    [InlineData(KeyAlgorithm.EC, null, "secp256k1")]
    public void Unsupported_combinations_are_clear_errors(KeyAlgorithm algorithm, int? keySize, string? curve)
    {
        var ex = Assert.Throws<RotationException>(() => KeyPairGenerator.Generate(algorithm, keySize, curve));
        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
    }

    [Fact]
    public void A_key_of_another_size_than_requested_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var ex = Assert.Throws<RotationException>(() => KeyPairGenerator.VerifySize(rsa, KeyAlgorithm.RSA, 3072, null));
        Assert.Equal(RotationErrorIds.KeySizeMismatch, ex.ErrorId);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        ex = Assert.Throws<RotationException>(() => KeyPairGenerator.VerifySize(ec, KeyAlgorithm.EC, 384, "P-384"));
        Assert.Equal(RotationErrorIds.KeySizeMismatch, ex.ErrorId);
        KeyPairGenerator.VerifySize(ec, KeyAlgorithm.EC, 256, "P-256");
    }

    [Fact]
    public void Output_object_holds_the_private_key_only_as_SecureString()
    {
        using var pair = KeyPairGenerator.Generate(curve: "P-384");
        var output = pair.ToRotationKeyPair();
        var pem = SecureStrings.ToPlainText(output.PrivateKey);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pem, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", output.PublicKeyPem, StringComparison.Ordinal);
        Assert.Equal(pair.Thumbprint, output.Kid);
        Assert.Equal(pair.Thumbprint, output.Thumbprint);
        Assert.Equal("EC", output.Algorithm);
        Assert.Equal("P-384", output.Curve);
        Assert.Null(output.KeySize);
        Assert.Equal(Fingerprint.Of(pem), output.Fingerprint);
        Assert.Equal("my-kid", pair.ToRotationKeyPair(kid: "my-kid").Kid);
        LeakAssert.NoneOf([PemBody(pem)], [("ToString", output.ToString()), ("pair", pair.ToString()), ("public", output.PublicKeyPem)]);
    }

    [Theory]
    [InlineData(KeyAlgorithm.RSA, 2048, null)]
    [InlineData(KeyAlgorithm.EC, null, "P-521")]
    public void A_written_private_key_loads_back_with_the_same_thumbprint(KeyAlgorithm algorithm, int? keySize, string? curve)
    {
        using var pair = KeyPairGenerator.Generate(algorithm, keySize, curve);
        var pem = new string(pair.ExportPrivateKeyPemChars());
        using var loaded = KeyPairGenerator.LoadPrivateKeyPem(pem);
        Assert.Equal(pair.Thumbprint, loaded.Thumbprint);
        Assert.Equal(pair.Algorithm, loaded.Algorithm);
        Assert.Equal(pair.Curve, loaded.Curve);
        Assert.Equal(pair.KeySize, loaded.KeySize);
    }

    [Fact]
    public void The_output_private_key_loads_back_for_signing()
    {
        using var pair = KeyPairGenerator.Generate(KeyAlgorithm.RSA, 2048);
        var output = pair.ToRotationKeyPair();
        using var loaded = KeyPairGenerator.LoadPrivateKey(output.PrivateKey);
        Assert.Equal(output.Thumbprint, loaded.Thumbprint);
        Assert.Equal(pair.PublicJwk.ToDictionary(), loaded.PublicJwk.ToDictionary());
        var data = Encoding.UTF8.GetBytes("payload");
        Assert.True(pair.Rsa!.VerifyData(data, loaded.Rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss), HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
    }

    [Theory]
    [InlineData(KeyAlgorithm.RSA, 2048, null)]
    [InlineData(KeyAlgorithm.EC, null, "P-384")]
    public void The_public_PEM_alone_gives_the_JWK_and_the_kid(KeyAlgorithm algorithm, int? keySize, string? curve)
    {
        using var pair = KeyPairGenerator.Generate(algorithm, keySize, curve);
        var output = pair.ToRotationKeyPair();
        var jwk = KeyPairGenerator.PublicJwkFromPem(output.PublicKeyPem);
        Assert.Equal(pair.PublicJwk.ToDictionary(), jwk.ToDictionary());
        Assert.Equal(output.Kid, jwk.Thumbprint());
        Assert.Equal(RotationErrorIds.InvalidArgument,
            Assert.Throws<RotationException>(() => KeyPairGenerator.PublicJwkFromPem(SecureStrings.ToPlainText(output.PrivateKey), "k.pem")).ErrorId);
    }

    [Fact]
    public void A_pem_that_is_not_a_key_is_a_clear_error_without_its_content()
    {
        var ex = Assert.Throws<RotationException>(() => KeyPairGenerator.LoadPrivateKeyPem("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----", "key.pem"));
        Assert.Equal("key.pem", ex.TargetName);
        Assert.DoesNotContain("bm90IGEga2V5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_are_PKCS8_0600_and_SPKI_0644()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        using var pair = KeyPairGenerator.Generate(curve: "P-256");
        string priv = dir.File("k.pem"), pub = dir.File("k.pub.pem");
        KeyPairFiles.Write(pair, priv, pub, force: false);

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(priv), StringComparison.Ordinal);
        Assert.Equal(pair.ExportPublicKeyPem(), File.ReadAllText(pub));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(KeyPairFiles.PrivateMode, File.GetUnixFileMode(priv));
            Assert.Equal(KeyPairFiles.PublicMode, File.GetUnixFileMode(pub));
        }
        using var loaded = KeyPairGenerator.LoadPrivateKeyPem(File.ReadAllText(priv));
        Assert.Equal(pair.Thumbprint, loaded.Thumbprint);
        Assert.Single(Directory.GetFiles(dir.Path, "*.pem"), f => f == priv);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Existing_files_are_not_replaced_without_force_and_nothing_is_written()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        using var pair = KeyPairGenerator.Generate(curve: "P-256");
        string priv = dir.File("k.pem"), pub = dir.File("k.pub.pem");
        File.WriteAllText(pub, "old public");

        var ex = Assert.Throws<RotationException>(() => KeyPairFiles.Write(pair, priv, pub, force: false));
        Assert.Equal(RotationErrorIds.KeyFileExists, ex.ErrorId);
        Assert.Equal(pub, ex.TargetName);
        Assert.False(File.Exists(priv));
        Assert.Equal("old public", File.ReadAllText(pub));
    }

    [Fact]
    public void Force_replaces_a_file_and_tightens_its_mode()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        using var pair = KeyPairGenerator.Generate(curve: "P-256");
        var priv = dir.File("k.pem");
        File.WriteAllText(priv, "old private");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(priv, KeyPairFiles.PublicMode);
        }
        KeyPairFiles.Write(pair, priv, null, force: true);
        using var loaded = KeyPairGenerator.LoadPrivateKeyPem(File.ReadAllText(priv));
        Assert.Equal(pair.Thumbprint, loaded.Thumbprint);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(KeyPairFiles.PrivateMode, File.GetUnixFileMode(priv));
        }
    }

    [Fact]
    public void Bad_paths_are_refused_before_anything_is_written()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        using var pair = KeyPairGenerator.Generate(curve: "P-256");
        var missing = Path.Combine(dir.Path, "no-such-folder", "k.pem");
        Assert.Equal(RotationErrorIds.KeyFileNotWritable,
            Assert.Throws<RotationException>(() => KeyPairFiles.Write(pair, dir.File("a.pem"), missing, false)).ErrorId);
        Assert.Equal(RotationErrorIds.InvalidArgument,
            Assert.Throws<RotationException>(() => KeyPairFiles.Write(pair, dir.File("a.pem"), dir.File("a.pem"), false)).ErrorId);
        Assert.Equal(RotationErrorIds.KeyFileNotWritable,
            Assert.Throws<RotationException>(() => KeyPairFiles.Write(pair, dir.Path, null, true)).ErrorId);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    private static void AssertSignsAndVerifiesWithPublicPem(GeneratedKeyPair pair)
    {
        var data = Encoding.UTF8.GetBytes("header.payload");
        if (pair.Rsa is { } rsa)
        {
            var sig = rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var pub = RSA.Create();
            pub.ImportFromPem(pair.ExportPublicKeyPem());
            Assert.True(pub.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            Assert.Equal(pair.Thumbprint, JwkPublicParameters.From(pub.ExportParameters(false)).Thumbprint());
        }
        else
        {
            var sig = pair.ECDsa!.SignData(data, HashAlgorithmName.SHA256);
            using var pub = ECDsa.Create();
            pub.ImportFromPem(pair.ExportPublicKeyPem());
            Assert.True(pub.VerifyData(data, sig, HashAlgorithmName.SHA256));
            Assert.Equal(pair.Thumbprint, JwkPublicParameters.From(pub.ExportParameters(false), pair.Curve!).Thumbprint());
        }
    }

    private static string PemBody(string pem) => pem.Split('\n')[1];
}

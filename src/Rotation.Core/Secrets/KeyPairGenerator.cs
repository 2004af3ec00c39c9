using System.Security.Cryptography;
using Rotation.Core.Errors;

namespace Rotation.Core.Secrets;

/// <summary>Asymmetric key families, named as JWK's kty names them.</summary>
public enum KeyAlgorithm
{
    RSA,
    EC,
}

/// <summary>
/// Generates RSA and ECDSA key pairs for signing (JWT RS*/PS*/ES*), verifies the size of what the platform
/// produced, and identifies each pair by its RFC 7638 JWK thumbprint.
/// </summary>
public static class KeyPairGenerator
{
    public static IReadOnlyList<int> RsaKeySizes { get; } = [2048, 3072, 4096];

    public static IReadOnlyList<string> Curves { get; } = ["P-256", "P-384", "P-521"];

    /// <summary>RSA 3072 gives 128-bit security (NIST SP 800-57), the level recommended beyond 2030.</summary>
    public const int DefaultRsaKeySize = 3072;

    public const string DefaultCurve = "P-256";

    /// <summary>
    /// Validates the combination (a key size is RSA's, a curve is EC's; an algorithm left out follows from which
    /// one is given) and generates the pair.
    /// </summary>
    public static GeneratedKeyPair Generate(KeyAlgorithm? algorithm = null, int? keySize = null, string? curve = null)
    {
        var alg = algorithm ?? (curve is not null ? KeyAlgorithm.EC : KeyAlgorithm.RSA);
        return alg switch
        {
            KeyAlgorithm.RSA when curve is not null => throw Invalid("RSA", $"-Curve {curve} applies to EC keys; RSA takes -KeySize ({string.Join(", ", RsaKeySizes)})."),
            KeyAlgorithm.EC when keySize is not null => throw Invalid("EC", $"-KeySize applies to RSA keys; an EC key's size follows from -Curve ({string.Join(", ", Curves)})."),
            KeyAlgorithm.RSA => GenerateRsa(keySize ?? DefaultRsaKeySize),
            KeyAlgorithm.EC => GenerateEC(curve ?? DefaultCurve),
            _ => throw Invalid(alg.ToString(), "Unknown key algorithm: use RSA or EC."),
        };
    }

    public static GeneratedKeyPair GenerateRsa(int keySize)
    {
        if (!RsaKeySizes.Contains(keySize))
        {
            throw Invalid($"RSA {keySize}", $"RSA key size {keySize} is not offered: use one of {string.Join(", ", RsaKeySizes)}.");
        }
        var rsa = RSA.Create(keySize);
        return Verified(rsa, KeyAlgorithm.RSA, keySize, null);
    }

    public static GeneratedKeyPair GenerateEC(string curve)
    {
        var (named, bits) = CurveOf(curve) ?? throw Invalid(curve, $"Curve '{curve}' is not offered: use one of {string.Join(", ", Curves)}.");
        var ec = ECDsa.Create(named);
        return Verified(ec, KeyAlgorithm.EC, bits, curve);
    }

    /// <summary>Loads a PKCS#8 (or PKCS#1 / SEC1) private key PEM, as New-RotationKeyPair writes it, for signing.</summary>
    public static GeneratedKeyPair LoadPrivateKeyPem(ReadOnlySpan<char> pem, string target = "private key")
    {
        var isEc = pem.IndexOf("EC PRIVATE KEY", StringComparison.Ordinal) >= 0 || IsEcPkcs8(pem);
        try
        {
            if (isEc)
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(pem);
                var curve = CurveName(ec.ExportParameters(false).Curve)
                    ?? throw Invalid(target, $"The EC key in '{target}' is on a curve Rotation does not offer; use {string.Join(", ", Curves)}.");
                return new GeneratedKeyPair(ec, KeyAlgorithm.EC, ec.KeySize, curve);
            }
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new GeneratedKeyPair(rsa, KeyAlgorithm.RSA, rsa.KeySize, null);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new RotationException(RotationErrorIds.InvalidArgument, RotationErrorCategory.InvalidData, target,
                $"'{target}' does not hold a PEM private key Rotation can read (PKCS#8, PKCS#1 or SEC1): {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The public JWK of a SubjectPublicKeyInfo PEM (RotationKeyPair.PublicKeyPem): what a JWKS publishes, and
    /// whose Thumbprint() is the RFC 7638 key id, computable without the private key.
    /// </summary>
    public static JwkPublicParameters PublicJwkFromPem(string publicKeyPem, string target = "public key")
    {
        ArgumentNullException.ThrowIfNull(publicKeyPem);
        try
        {
            var der = PemEncoding.TryFind(publicKeyPem, out var fields) && publicKeyPem[fields.Label].SequenceEqual("PUBLIC KEY")
                ? Convert.FromBase64String(publicKeyPem[fields.Base64Data].ToString())
                : throw new CryptographicException("no 'PUBLIC KEY' PEM block");
            if (NamesEcKey(der))
            {
                using var ec = ECDsa.Create();
                ec.ImportSubjectPublicKeyInfo(der, out _);
                var p = ec.ExportParameters(false);
                return JwkPublicParameters.From(p, CurveName(p.Curve)
                    ?? throw Invalid(target, $"The EC key in '{target}' is on a curve Rotation does not offer; use {string.Join(", ", Curves)}."));
            }
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(der, out _);
            return JwkPublicParameters.From(rsa.ExportParameters(false));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            throw new RotationException(RotationErrorIds.InvalidArgument, RotationErrorCategory.InvalidData, target,
                $"'{target}' is not a SubjectPublicKeyInfo PEM ('BEGIN PUBLIC KEY') of an RSA or EC key: {ex.Message}", ex);
        }
    }

    /// <summary>Loads a private key held as SecureString (RotationKeyPair.PrivateKey, a stored PEM), zeroing the plain copy.</summary>
    public static GeneratedKeyPair LoadPrivateKey(System.Security.SecureString pem, string target = "private key")
    {
        ArgumentNullException.ThrowIfNull(pem);
        return SecureStrings.UsePlainChars(pem, chars => LoadPrivateKeyPem(chars, target));
    }

    /// <summary>
    /// Checks that the platform produced the size that was asked for: a provider that silently substitutes a
    /// default size must not hand out a weaker key under a stronger name.
    /// </summary>
    internal static void VerifySize(AsymmetricAlgorithm key, KeyAlgorithm algorithm, int expectedBits, string? curve)
    {
        var actual = key.KeySize;
        string? actualCurve = null;
        if (key is ECDsa ec)
        {
            actualCurve = CurveName(ec.ExportParameters(false).Curve);
        }
        var sizeOk = actual == expectedBits && (algorithm == KeyAlgorithm.RSA ? key is RSA : key is ECDsa);
        var curveOk = curve is null || string.Equals(actualCurve, curve, StringComparison.Ordinal);
        if (!sizeOk || !curveOk)
        {
            var wanted = curve ?? $"{expectedBits} bits";
            var got = actualCurve ?? $"{actual} bits";
            throw new RotationException(RotationErrorIds.KeySizeMismatch, RotationErrorCategory.InvalidResult, $"{algorithm} {wanted}",
                $"A {algorithm} key of {wanted} was requested but the platform produced {got}; no key was written. " +
                "Check the cryptography provider (OpenSSL) of this machine.");
        }
    }

    internal static (ECCurve Curve, int Bits)? CurveOf(string curve) => curve switch
    {
        "P-256" => (ECCurve.NamedCurves.nistP256, 256),
        "P-384" => (ECCurve.NamedCurves.nistP384, 384),
        "P-521" => (ECCurve.NamedCurves.nistP521, 521),
        _ => null,
    };

    internal static string? CurveName(ECCurve curve) => curve.Oid?.Value switch
    {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        _ => curve.Oid?.FriendlyName switch
        {
            "nistP256" or "ECDSA_P256" => "P-256",
            "nistP384" or "ECDSA_P384" => "P-384",
            "nistP521" or "ECDSA_P521" => "P-521",
            _ => null,
        },
    };

    private static GeneratedKeyPair Verified(AsymmetricAlgorithm key, KeyAlgorithm algorithm, int bits, string? curve)
    {
        try
        {
            VerifySize(key, algorithm, bits, curve);
            return new GeneratedKeyPair(key, algorithm, bits, curve);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    // A PKCS#8 "PRIVATE KEY" does not say its algorithm in the label; its AlgorithmIdentifier does.
    private static bool IsEcPkcs8(ReadOnlySpan<char> pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            return false;
        }
        var der = new byte[fields.DecodedDataLength];
        try
        {
            if (!Convert.TryFromBase64Chars(pem[fields.Base64Data], der, out _))
            {
                return false;
            }
            return NamesEcKey(der);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    // The id-ecPublicKey OID (1.2.840.10045.2.1) in the AlgorithmIdentifier near the start of a PKCS#8 or SPKI structure.
    private static bool NamesEcKey(ReadOnlySpan<byte> der) =>
        der[..Math.Min(der.Length, 32)].IndexOf((ReadOnlySpan<byte>)[0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]) >= 0;

    private static RotationException Invalid(string target, string message) => Errors.Errors.InvalidArgument(target, message);
}

/// <summary>
/// A generated (or loaded) key pair: the live key for signing, its public JWK parameters and its RFC 7638
/// thumbprint. Dispose it when done: it owns the key.
/// </summary>
public sealed class GeneratedKeyPair : IDisposable
{
    internal GeneratedKeyPair(AsymmetricAlgorithm key, KeyAlgorithm algorithm, int keySize, string? curve)
    {
        Key = key;
        Algorithm = algorithm;
        KeySize = keySize;
        Curve = curve;
        PublicJwk = key switch
        {
            RSA rsa => JwkPublicParameters.From(rsa.ExportParameters(false)),
            ECDsa ec => JwkPublicParameters.From(ec.ExportParameters(false), curve!),
            _ => throw new ArgumentException("Only RSA and ECDsa keys are supported.", nameof(key)),
        };
        Thumbprint = PublicJwk.Thumbprint();
    }

    public KeyAlgorithm Algorithm { get; }

    /// <summary>Bits: the RSA modulus size, or the curve's size (256, 384, 521).</summary>
    public int KeySize { get; }

    /// <summary>"P-256", "P-384" or "P-521" for EC; null for RSA.</summary>
    public string? Curve { get; }

    /// <summary>The key itself (RSA or ECDsa), for signing. Owned by this object.</summary>
    public AsymmetricAlgorithm Key { get; }

    public RSA? Rsa => Key as RSA;

    public ECDsa? ECDsa => Key as ECDsa;

    public JwkPublicParameters PublicJwk { get; }

    /// <summary>RFC 7638 JWK thumbprint (base64url SHA-256 of the canonical public JWK): the default key id.</summary>
    public string Thumbprint { get; }

    /// <summary>SubjectPublicKeyInfo PEM ("PUBLIC KEY"): not secret.</summary>
    public string ExportPublicKeyPem() => PemEncoding.WriteString("PUBLIC KEY", Key.ExportSubjectPublicKeyInfo());

    /// <summary>PKCS#8 PEM ("PRIVATE KEY") characters; the caller zeroes the array.</summary>
    public char[] ExportPrivateKeyPemChars()
    {
        var der = Key.ExportPkcs8PrivateKey();
        try
        {
            return PemEncoding.Write("PRIVATE KEY", der);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>
    /// The output object: the private key only as SecureString, and written to files first when paths are given
    /// (see <see cref="KeyPairFiles"/>; the caller checks and writes them).
    /// </summary>
    public RotationKeyPair ToRotationKeyPair(string? kid = null, string? privateKeyPath = null, string? publicKeyPath = null, TimeProvider? clock = null)
    {
        var pem = ExportPrivateKeyPemChars();
        try
        {
            return new RotationKeyPair
            {
                Kid = string.IsNullOrEmpty(kid) ? Thumbprint : kid,
                Thumbprint = Thumbprint,
                Algorithm = Algorithm.ToString(),
                KeySize = Algorithm == KeyAlgorithm.RSA ? KeySize : null,
                Curve = Curve,
                PublicKeyPem = ExportPublicKeyPem(),
                PrivateKey = SecureStrings.FromChars(pem),
                PrivateKeyPath = privateKeyPath,
                PublicKeyPath = publicKeyPath,
                Fingerprint = Fingerprint.OfChars(pem),
                CreatedAt = (clock ?? TimeProvider.System).GetUtcNow(),
            };
        }
        finally
        {
            Array.Clear(pem);
        }
    }

    public void Dispose() => Key.Dispose();

    public override string ToString() => $"{Algorithm} {Curve ?? KeySize.ToString(System.Globalization.CultureInfo.InvariantCulture)} {Thumbprint}";
}

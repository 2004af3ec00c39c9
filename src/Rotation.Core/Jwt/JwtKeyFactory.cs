using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Jwt;

/// <summary>Creates signing keys (New-JwtSigningKey) and checks each key's own rules (length, type, kid shape).</summary>
public static partial class JwtKeyFactory
{
    /// <summary>
    /// A new key that is not in any ring yet (status Next, not published). Kid: the given one, else the RFC 7638
    /// thumbprint of the key's JWK (for HMAC the oct JWK: a hash of a high-entropy secret reveals nothing useful, and
    /// every HS token is already such an oracle). KeySize in bits: HMAC default 512 (64 bytes), RSA default 2048,
    /// EC fixed by the curve.
    /// </summary>
    public static JwtKey New(JwtAlgorithm algorithm, TimeProvider clock, string? kid = null, int? keySize = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var target = kid ?? algorithm.ToString();
        switch (JwtAlgorithmInfo.KeyType(algorithm))
        {
            case JwtAlgorithmInfo.Oct:
            {
                var bits = keySize ?? JwtAlgorithmInfo.DefaultHmacBits;
                if (bits % 8 != 0)
                {
                    throw Errors.Errors.InvalidArgument(target, $"-KeySize {bits} is not a whole number of bytes; give HMAC key sizes in bits, a multiple of 8 (512 = 64 bytes).");
                }
                var minimum = JwtAlgorithmInfo.HashBytes(algorithm) * 8;
                if (bits < minimum)
                {
                    throw TooWeak(target, $"An {algorithm} key of {bits} bits is shorter than the {minimum}-bit hash output (RFC 8725 section 3.5). Use -KeySize {minimum} or more; 512 is the default.");
                }
                // Base64url text of the random bytes: what an application reads from an environment variable or
                // a JSON secret; its UTF-8 bytes are the HMAC key, so every random byte survives.
                var secret = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(bits / 8));
                return FromHmacSecret(algorithm, secret, clock, kid);
            }
            case JwtAlgorithmInfo.Rsa:
            {
                var bits = keySize ?? JwtAlgorithmInfo.DefaultRsaBits;
                if (bits < JwtAlgorithmInfo.MinimumRsaBits)
                {
                    throw TooWeak(target, $"An RSA key of {bits} bits is below the {JwtAlgorithmInfo.MinimumRsaBits}-bit minimum (RFC 7518 section 3.3). Use -KeySize 2048 or more.");
                }
                using var pair = KeyPairGenerator.GenerateRsa(bits);
                return FromPkcs8(algorithm, pair.Key.ExportPkcs8PrivateKey(), clock, kid);
            }
            default:
            {
                var curveBits = JwtAlgorithmInfo.CurveBits(algorithm);
                if (keySize is { } k && k != curveBits)
                {
                    throw Errors.Errors.InvalidArgument(target, $"{algorithm} uses the curve {JwtAlgorithmInfo.CurveName(algorithm)} ({curveBits} bits); omit -KeySize or give {curveBits}.");
                }
                using var pair = KeyPairGenerator.GenerateEC(JwtAlgorithmInfo.CurveName(algorithm)!);
                return FromPkcs8(algorithm, pair.Key.ExportPkcs8PrivateKey(), clock, kid);
            }
        }
    }

    /// <summary>Wraps an existing HMAC secret (the JWT_SECRET an application already uses) so it can join a ring.</summary>
    public static JwtKey FromHmacSecret(JwtAlgorithm algorithm, string secret, TimeProvider clock, string? kid = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (!JwtAlgorithmInfo.IsHmac(algorithm))
        {
            throw Errors.Errors.InvalidArgument(kid ?? algorithm.ToString(), $"{algorithm} is not an HMAC algorithm; a shared secret can only be used with HS256, HS384 or HS512.");
        }
        var bytes = Encoding.UTF8.GetBytes(secret);
        var material = new JwtKeyMaterial { HmacSecret = secret };
        var key = new JwtKey
        {
            Kid = kid ?? Thumbprint(new SortedDictionary<string, string>(StringComparer.Ordinal) { ["k"] = Base64UrlEncoder.Encode(bytes), ["kty"] = JwtAlgorithmInfo.Oct }),
            Algorithm = algorithm,
            CreatedAt = clock.GetUtcNow(),
            KeySize = bytes.Length * 8,
            Fingerprint = JwtKeyMaterial.FingerprintOfSecret(secret),
            Material = material,
        };
        CheckKey(key, key.Kid);
        return key;
    }

    /// <summary>Wraps an existing RSA or EC private key (PKCS#8 DER).</summary>
    public static JwtKey FromPkcs8(JwtAlgorithm algorithm, byte[] pkcs8, TimeProvider clock, string? kid = null)
    {
        ArgumentNullException.ThrowIfNull(pkcs8);
        var target = kid ?? algorithm.ToString();
        var material = new JwtKeyMaterial { Pkcs8 = pkcs8 };
        var (jwk, bits) = PublicJwkOf(algorithm, material, target);
        var key = new JwtKey
        {
            Kid = kid ?? Thumbprint(jwk),
            Algorithm = algorithm,
            CreatedAt = clock.GetUtcNow(),
            KeySize = bits,
            Fingerprint = Fingerprint.Of(CanonicalJson(jwk)),
            PublicJwk = jwk,
            Material = material,
        };
        CheckKey(key, key.Kid);
        return key;
    }

    /// <summary>
    /// RFC 7638 thumbprint of a JWK: RSA and EC through the key generator's JwkPublicParameters; the oct form
    /// ({"k":...,"kty":"oct"}) here, since HMAC keys are this area's own.
    /// </summary>
    public static string Thumbprint(IReadOnlyDictionary<string, string> jwk) => jwk["kty"] switch
    {
        JwtAlgorithmInfo.Rsa => JwkPublicParameters.ForRsa(jwk["n"], jwk["e"]).Thumbprint(),
        JwtAlgorithmInfo.Ec => JwkPublicParameters.ForEC(jwk["crv"], jwk["x"], jwk["y"]).Thumbprint(),
        _ => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson(new Dictionary<string, string>(StringComparer.Ordinal) { ["k"] = jwk["k"], ["kty"] = JwtAlgorithmInfo.Oct })))),
    };

    /// <summary>Members in ordinal order, no whitespace: the RFC 7638 form (every value here is a plain ASCII string).</summary>
    internal static string CanonicalJson(IEnumerable<KeyValuePair<string, string>> members) =>
        "{" + string.Join(",", members.OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => System.Text.Json.JsonSerializer.Serialize(m.Key) + ":" + System.Text.Json.JsonSerializer.Serialize(m.Value))) + "}";

    /// <summary>
    /// The rules every key keeps, on creation, on load and before every save: a kid safe as a file name and a
    /// Kubernetes key, material that matches the algorithm, HMAC secrets at least as long as the hash output
    /// (JwtKeyTooWeak), RSA at least 2048 bits, a public JWK that belongs to the private key.
    /// </summary>
    internal static void CheckKey(JwtKey key, string target)
    {
        if (!KidPattern().IsMatch(key.Kid) || key.Kid is "." or "..")
        {
            throw Invalid(target, $"The kid '{Printable(key.Kid)}' is not allowed: use 1 to 128 letters, digits, '.', '_' or '-' (it becomes a file name and a Kubernetes secret key).");
        }
        if (key.Status == JwtKeyStatus.Retired)
        {
            if (key.Material is not null)
            {
                throw Invalid(target, $"The retired key '{key.Kid}' still carries key material; a retired key is a tombstone without material.");
            }
            return;
        }
        var material = key.Material ?? throw Invalid(target, $"The key '{key.Kid}' ({key.Status}) has no key material.");
        if (JwtAlgorithmInfo.IsHmac(key.Algorithm))
        {
            if (material.HmacSecret is null || material.Pkcs8 is not null || key.PublicJwk is not null)
            {
                throw Invalid(target, $"The key '{key.Kid}' is {key.Algorithm} but does not hold a shared secret only; the algorithm does not match the key type.");
            }
            var length = Encoding.UTF8.GetByteCount(material.HmacSecret);
            var minimum = JwtAlgorithmInfo.HashBytes(key.Algorithm);
            if (length < minimum)
            {
                throw TooWeak(target, $"The {key.Algorithm} key '{key.Kid}' is {length} bytes long, shorter than the {minimum}-byte hash output (RFC 8725 section 3.5). Generate a new key with New-JwtSigningKey (64 bytes by default).");
            }
            return;
        }
        if (material.Pkcs8 is null || material.HmacSecret is not null)
        {
            throw Invalid(target, $"The key '{key.Kid}' is {key.Algorithm} but does not hold a private key; the algorithm does not match the key type.");
        }
        var (jwk, _) = PublicJwkOf(key.Algorithm, material, target);
        if (key.PublicJwk is null || CanonicalJson(key.PublicJwk) != CanonicalJson(jwk))
        {
            throw Invalid(target, $"The public JWK of key '{key.Kid}' does not belong to its private key.");
        }
    }

    /// <summary>Imports the private key for its algorithm and returns the public JWK members and the key size.</summary>
    internal static (IReadOnlyDictionary<string, string> Jwk, int Bits) PublicJwkOf(JwtAlgorithm algorithm, JwtKeyMaterial material, string target)
    {
        var pkcs8 = material.Pkcs8 ?? throw Invalid(target, $"The {algorithm} key has no private key.");
        try
        {
            if (JwtAlgorithmInfo.KeyType(algorithm) == JwtAlgorithmInfo.Rsa)
            {
                using var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(pkcs8, out _);
                if (rsa.KeySize < JwtAlgorithmInfo.MinimumRsaBits)
                {
                    throw TooWeak(target, $"The RSA key is {rsa.KeySize} bits, below the {JwtAlgorithmInfo.MinimumRsaBits}-bit minimum (RFC 7518 section 3.3).");
                }
                return (Sorted(JwkPublicParameters.From(rsa.ExportParameters(false))), rsa.KeySize);
            }
            if (JwtAlgorithmInfo.KeyType(algorithm) == JwtAlgorithmInfo.Ec)
            {
                using var ec = ECDsa.Create();
                ec.ImportPkcs8PrivateKey(pkcs8, out _);
                var p = ec.ExportParameters(false);
                var expected = JwtAlgorithmInfo.Curve(algorithm);
                if (p.Curve.Oid?.Value != expected.Oid.Value)
                {
                    throw Invalid(target, $"{algorithm} needs a key on {JwtAlgorithmInfo.CurveName(algorithm)}, but the key is on another curve ({p.Curve.Oid?.FriendlyName ?? "unknown"}).");
                }
                return (Sorted(JwkPublicParameters.From(p, JwtAlgorithmInfo.CurveName(algorithm)!)), ec.KeySize);
            }
        }
        catch (CryptographicException ex)
        {
            throw Invalid(target, $"The private key does not import as a {JwtAlgorithmInfo.KeyType(algorithm)} key for {algorithm}; the algorithm does not match the key type.", ex);
        }
        throw Invalid(target, $"{algorithm} keys have no private key.");
    }

    private static SortedDictionary<string, string> Sorted(JwkPublicParameters jwk) => new(jwk.ToDictionary().ToDictionary(), StringComparer.Ordinal);

    internal static RotationException TooWeak(string target, string message) =>
        new(RotationErrorIds.JwtKeyTooWeak, RotationErrorCategory.SecurityError, target, message);

    internal static RotationException Invalid(string target, string message, Exception? inner = null) =>
        new(RotationErrorIds.JwtKeyRingInvalid, RotationErrorCategory.InvalidData, target, message, inner);

    // A kid comes from a document that may be hostile: never echo control characters into a message.
    private static string Printable(string s) => new(s.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex KidPattern();
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Rotation.Core.Jwt;

/// <summary>Turns ring keys into crypto objects: IdentityModel security keys for validation, PEM for layouts, raw verification for usage counting.</summary>
internal static class JwtKeyCrypto
{
    /// <summary>A verification key for Microsoft.IdentityModel: the HMAC secret, or only the public half of RSA/EC.</summary>
    public static SecurityKey VerificationKey(JwtKey key)
    {
        var material = key.Material ?? throw new InvalidOperationException($"The key '{key.Kid}' has no material.");
        if (JwtAlgorithmInfo.IsHmac(key.Algorithm))
        {
            return new SymmetricSecurityKey(material.HmacKeyBytes) { KeyId = key.Kid };
        }
        if (key.KeyType == JwtAlgorithmInfo.Rsa)
        {
            var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(key.PublicJwk!["n"]), Exponent = Base64UrlEncoder.DecodeBytes(key.PublicJwk["e"]) });
            return new RsaSecurityKey(rsa) { KeyId = key.Kid };
        }
        var ec = ECDsa.Create(new ECParameters
        {
            Curve = JwtAlgorithmInfo.Curve(key.Algorithm),
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(key.PublicJwk!["x"]), Y = Base64UrlEncoder.DecodeBytes(key.PublicJwk["y"]) },
        });
        return new ECDsaSecurityKey(ec) { KeyId = key.Kid };
    }

    /// <summary>Signing credentials (tests, benchmarks): the private key of a ring key.</summary>
    public static SigningCredentials SigningCredentials(JwtKey key, bool includeKid = true)
    {
        var material = key.Material ?? throw new InvalidOperationException($"The key '{key.Kid}' has no material.");
        SecurityKey sk;
        if (JwtAlgorithmInfo.IsHmac(key.Algorithm))
        {
            sk = new SymmetricSecurityKey(material.HmacKeyBytes);
        }
        else if (key.KeyType == JwtAlgorithmInfo.Rsa)
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(material.Pkcs8, out _);
            sk = new RsaSecurityKey(rsa);
        }
        else
        {
            var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(material.Pkcs8, out _);
            sk = new ECDsaSecurityKey(ec);
        }
        if (includeKid)
        {
            sk.KeyId = key.Kid;
        }
        return new SigningCredentials(sk, key.Algorithm.ToString());
    }

    public static string PrivatePem(JwtKey key) => PemEncoding.WriteString("PRIVATE KEY", key.Material!.Pkcs8);

    public static string PublicPem(JwtKey key)
    {
        using var k = Asymmetric(key);
        return PemEncoding.WriteString("PUBLIC KEY", k.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The value an application reads for a key: the HMAC secret text, or PEM (private when it signs).</summary>
    public static string ApplicationValue(JwtKey key, bool signs) =>
        JwtAlgorithmInfo.IsHmac(key.Algorithm) ? key.Material!.HmacSecret! : signs ? PrivatePem(key) : PublicPem(key);

    private static AsymmetricAlgorithm Asymmetric(JwtKey key)
    {
        if (key.KeyType == JwtAlgorithmInfo.Rsa)
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(key.Material!.Pkcs8, out _);
            return rsa;
        }
        var ec = ECDsa.Create();
        ec.ImportPkcs8PrivateKey(key.Material!.Pkcs8, out _);
        return ec;
    }
}

/// <summary>
/// Raw JWS signature checks without IdentityModel (usage counting over large logs): which ring key made a signature.
/// Crypto objects are cached per kid for the life of the checker.
/// </summary>
internal sealed class JwsSignatureChecker(IReadOnlyList<JwtKey> keys) : IDisposable
{
    private readonly ConcurrentDictionary<string, object> _cache = new(StringComparer.Ordinal);

    public JwtKey? FindSigner(string alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        foreach (var key in keys)
        {
            if (key.Algorithm.ToString() == alg && Verify(key, signingInput, signature))
            {
                return key;
            }
        }
        return null;
    }

    public bool Verify(JwtKey key, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        var crypto = _cache.GetOrAdd(key.Kid, _ => Create(key));
        switch (crypto)
        {
            case byte[] secret:
            {
                Span<byte> mac = stackalloc byte[64];
                var n = JwtAlgorithmInfo.HashBytes(key.Algorithm) switch
                {
                    32 => HMACSHA256.HashData(secret, signingInput, mac),
                    48 => HMACSHA384.HashData(secret, signingInput, mac),
                    _ => HMACSHA512.HashData(secret, signingInput, mac),
                };
                return CryptographicOperations.FixedTimeEquals(mac[..n], signature);
            }
            case RSA rsa:
                return rsa.VerifyData(signingInput, signature, JwtAlgorithmInfo.Hash(key.Algorithm), JwtAlgorithmInfo.RsaPadding(key.Algorithm));
            case ECDsa ec:
                return ec.VerifyData(signingInput, signature, JwtAlgorithmInfo.Hash(key.Algorithm));
            default:
                return false;
        }
    }

    private static object Create(JwtKey key) => JwtKeyCrypto.VerificationKey(key) switch
    {
        SymmetricSecurityKey s => s.Key,
        RsaSecurityKey r => r.Rsa,
        ECDsaSecurityKey e => e.ECDsa,
        _ => throw new InvalidOperationException("Unsupported key."),
    };

    public void Dispose()
    {
        foreach (var o in _cache.Values)
        {
            (o as IDisposable)?.Dispose();
        }
    }
}

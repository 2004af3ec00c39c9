using System.Security.Cryptography;

namespace Rotation.Core.Jwt;

/// <summary>The JWS algorithms a key ring holds (RFC 7518). "none" and the RSA/EC variants nobody asked for are absent on purpose.</summary>
public enum JwtAlgorithm
{
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    ES256,
    ES384,
    ES512,
}

/// <summary>Where a key is in its lifecycle.</summary>
public enum JwtKeyStatus
{
    /// <summary>Published for verification, not signing yet: verifiers learn it before it signs anything.</summary>
    Next,

    /// <summary>The one signing key.</summary>
    Active,

    /// <summary>No longer signs; still verifies until every token it signed has expired.</summary>
    Retiring,

    /// <summary>A tombstone: material erased, never verifies; kept so its kid is never reused and history stays readable.</summary>
    Retired,
}

/// <summary>What each algorithm needs from its key.</summary>
internal static class JwtAlgorithmInfo
{
    public const string Oct = "oct";
    public const string Rsa = "RSA";
    public const string Ec = "EC";

    public const int MinimumRsaBits = 2048;
    public const int DefaultRsaBits = 2048;

    /// <summary>The runbooks' 64-byte secrets: enough for HS512 too (RFC 8725 section 3.5).</summary>
    public const int DefaultHmacBits = 512;

    public static string KeyType(JwtAlgorithm alg) => alg switch
    {
        JwtAlgorithm.HS256 or JwtAlgorithm.HS384 or JwtAlgorithm.HS512 => Oct,
        JwtAlgorithm.RS256 or JwtAlgorithm.RS384 or JwtAlgorithm.RS512 or JwtAlgorithm.PS256 => Rsa,
        _ => Ec,
    };

    public static bool IsHmac(JwtAlgorithm alg) => KeyType(alg) == Oct;

    public static HashAlgorithmName Hash(JwtAlgorithm alg) => alg switch
    {
        JwtAlgorithm.HS256 or JwtAlgorithm.RS256 or JwtAlgorithm.PS256 or JwtAlgorithm.ES256 => HashAlgorithmName.SHA256,
        JwtAlgorithm.HS384 or JwtAlgorithm.RS384 or JwtAlgorithm.ES384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    /// <summary>Hash output in bytes: the minimum HMAC key length (RFC 8725 section 3.5, RFC 7518 section 3.2).</summary>
    public static int HashBytes(JwtAlgorithm alg) => Hash(alg).Name switch
    {
        "SHA256" => 32,
        "SHA384" => 48,
        _ => 64,
    };

    public static string? CurveName(JwtAlgorithm alg) => alg switch
    {
        JwtAlgorithm.ES256 => "P-256",
        JwtAlgorithm.ES384 => "P-384",
        JwtAlgorithm.ES512 => "P-521",
        _ => null,
    };

    public static int CurveBits(JwtAlgorithm alg) => alg switch
    {
        JwtAlgorithm.ES256 => 256,
        JwtAlgorithm.ES384 => 384,
        _ => 521,
    };

    public static ECCurve Curve(JwtAlgorithm alg) => alg switch
    {
        JwtAlgorithm.ES256 => ECCurve.NamedCurves.nistP256,
        JwtAlgorithm.ES384 => ECCurve.NamedCurves.nistP384,
        _ => ECCurve.NamedCurves.nistP521,
    };

    public static RSASignaturePadding RsaPadding(JwtAlgorithm alg) => alg == JwtAlgorithm.PS256 ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;

    public static bool TryParse(string? name, out JwtAlgorithm alg) =>
        Enum.TryParse(name, ignoreCase: false, out alg) && Enum.IsDefined(alg);
}

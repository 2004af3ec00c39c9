using System.Text;
using Rotation.Core.Secrets;

namespace Rotation.Core.Jwt;

/// <summary>
/// One signing key of a ring (DESIGN.md section 1: JwtKey). The private or symmetric material is internal: no
/// property, format view or ToString shows it. It travels from New-JwtSigningKey to Add-JwtSigningKey inside the
/// object and is rendered only by ConvertTo-JwtKeyLayout. Kid and Uri bind by property name to the next cmdlet.
/// </summary>
public sealed record JwtKey
{
    public required string Kid { get; init; }

    public required JwtAlgorithm Algorithm { get; init; }

    /// <summary>JWK "use": always "sig" for a signing ring.</summary>
    public string Use { get; init; } = "sig";

    public JwtKeyStatus Status { get; init; } = JwtKeyStatus.Next;

    /// <summary>A number that never changes or repeats within a ring (jwt-secret-vN in the VersionedWithActive layout).</summary>
    public int Version { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the key entered the ring as Next, i.e. was published to verifiers.</summary>
    public DateTimeOffset? PublishedAt { get; init; }

    public DateTimeOffset? ActivatedAt { get; init; }

    /// <summary>When it stopped signing: tokens it signed stay valid for at most the longest token lifetime after this.</summary>
    public DateTimeOffset? RetiringSince { get; init; }

    public DateTimeOffset? RetiredAt { get; init; }

    /// <summary>True when the key left the ring through an emergency revocation rather than a routine retirement.</summary>
    public bool Revoked { get; init; }

    /// <summary>JWK "kty": oct, RSA or EC.</summary>
    public string KeyType => JwtAlgorithmInfo.KeyType(Algorithm);

    /// <summary>Bits: the HMAC key length (UTF-8 bytes of the secret text: 688 for the default 64 random bytes as base64url), RSA modulus, EC curve size.</summary>
    public int KeySize { get; init; }

    /// <summary>Identifies the key without revealing it: of the public JWK for RSA/EC, of the secret for HMAC.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The public members of an RSA or EC JWK (kty, n, e / kty, crv, x, y); null for HMAC keys.</summary>
    public IReadOnlyDictionary<string, string>? PublicJwk { get; init; }

    /// <summary>The ring this key was read from, when it came from one.</summary>
    public string? Uri { get; init; }

    /// <summary>False for a Retired tombstone: its material was erased.</summary>
    public bool HasMaterial => Material is not null;

    internal JwtKeyMaterial? Material { get; init; }

    /// <summary>A key that verifies tokens: Next, Active and Retiring keys.</summary>
    public bool Verifies => Status is JwtKeyStatus.Next or JwtKeyStatus.Active or JwtKeyStatus.Retiring;

    public override string ToString() => $"{Kid} {Algorithm} {Status} {Fingerprint}";
}

/// <summary>
/// Secret material of a key. HMAC: the secret as the text applications read (JWT_SECRET); the HMAC key is its UTF-8
/// bytes, exactly as jsonwebtoken, PyJWT and most frameworks use an environment string. RSA/EC: PKCS#8.
/// </summary>
internal sealed class JwtKeyMaterial
{
    public string? HmacSecret { get; init; }

    public byte[]? Pkcs8 { get; init; }

    public byte[] HmacKeyBytes => Encoding.UTF8.GetBytes(HmacSecret ?? throw new InvalidOperationException("Not an HMAC key."));

    public override string ToString() => "[key material]";

    public static string FingerprintOfSecret(string secret) => Fingerprint.Of(secret);
}

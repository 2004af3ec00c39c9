using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rotation.Core.Jwt;

/// <summary>A JWK Set (RFC 7517) of a ring's public verification keys. Public by construction: safe to print and publish.</summary>
public sealed class JwksDocument
{
    public string? RingUri { get; init; }

    public required string Json { get; init; }

    public required IReadOnlyList<string> Kids { get; init; }

    public int KeyCount => Kids.Count;

    public override string ToString() => Json;
}

public static class Jwks
{
    // Whitelists rather than filtering out private members: a member nobody listed here can never leak.
    private static readonly string[] RsaMembers = ["n", "e"];
    private static readonly string[] EcMembers = ["crv", "x", "y"];

    /// <summary>
    /// The public keys of every verifying RSA/EC key (Next, Active, Retiring), newest first. HMAC keys are never
    /// in a JWKS (their only member is the secret "k"); verifiers of HS tokens get the secret through a layout.
    /// </summary>
    public static JwksDocument Export(JwtKeyRing ring, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var keys = new JsonArray();
        var kids = new List<string>();
        foreach (var key in JwtKeyOrder.NewestFirst(ring).Where(k => k.PublicJwk is not null && !JwtAlgorithmInfo.IsHmac(k.Algorithm)))
        {
            var jwk = new JsonObject
            {
                ["kty"] = key.KeyType,
                ["use"] = key.Use,
                ["alg"] = key.Algorithm.ToString(),
                ["kid"] = key.Kid,
            };
            foreach (var m in key.KeyType == JwtAlgorithmInfo.Rsa ? RsaMembers : EcMembers)
            {
                jwk[m] = key.PublicJwk![m];
            }
            keys.Add(jwk);
            kids.Add(key.Kid);
        }
        var doc = new JsonObject { ["keys"] = keys };
        return new JwksDocument
        {
            RingUri = ring.Uri,
            Json = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = indented }),
            Kids = kids,
        };
    }
}

internal static class JwtKeyOrder
{
    /// <summary>
    /// Verification keys in the order a kid-less token should try them: the Active key first (it signs nearly
    /// every token in flight), then Next, then Retiring newest first.
    /// </summary>
    public static IReadOnlyList<JwtKey> MostLikelySignerFirst(JwtKeyRing ring) =>
        ring.VerificationKeys
            .OrderBy(k => k.Status switch { JwtKeyStatus.Active => 0, JwtKeyStatus.Next => 1, _ => 2 })
            .ThenByDescending(k => k.RetiringSince)
            .ToList();

    /// <summary>Verification keys newest first: Next, Active, then Retiring by how recently they stopped signing.</summary>
    public static IReadOnlyList<JwtKey> NewestFirst(JwtKeyRing ring) =>
        ring.VerificationKeys
            .OrderBy(k => k.Status switch { JwtKeyStatus.Next => 0, JwtKeyStatus.Active => 1, _ => 2 })
            .ThenByDescending(k => k.RetiringSince)
            .ToList();
}

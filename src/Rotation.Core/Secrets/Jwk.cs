using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Rotation.Core.Secrets;

/// <summary>
/// The public parameters of a JSON Web Key (RFC 7517/7518): kty with n, e for RSA, or crv, x, y for EC, each
/// base64url without padding. Enough to publish a JWKS entry and to compute the RFC 7638 thumbprint.
/// </summary>
public sealed class JwkPublicParameters
{
    private JwkPublicParameters(string kty, string? n, string? e, string? crv, string? x, string? y)
    {
        Kty = kty;
        N = n;
        E = e;
        Crv = crv;
        X = x;
        Y = y;
    }

    /// <summary>"RSA" or "EC".</summary>
    public string Kty { get; }

    public string? N { get; }

    public string? E { get; }

    /// <summary>"P-256", "P-384" or "P-521".</summary>
    public string? Crv { get; }

    public string? X { get; }

    public string? Y { get; }

    public static JwkPublicParameters ForRsa(string n, string e) => new("RSA", n, e, null, null, null);

    public static JwkPublicParameters ForEC(string crv, string x, string y) => new("EC", null, null, crv, x, y);

    public static JwkPublicParameters From(RSAParameters p) =>
        ForRsa(Base64Url.Encode(TrimLeadingZeros(p.Modulus!)), Base64Url.Encode(TrimLeadingZeros(p.Exponent!)));

    /// <summary>EC coordinates keep their full field length (RFC 7518 section 6.2.1.2), as ExportParameters gives them.</summary>
    public static JwkPublicParameters From(ECParameters p, string crv) =>
        ForEC(crv, Base64Url.Encode(p.Q.X!), Base64Url.Encode(p.Q.Y!));

    /// <summary>
    /// The RFC 7638 canonical form: only the required members, in lexicographic order, no whitespace. The values
    /// are base64url and curve names, which need no JSON escaping, but the writer escapes anyway.
    /// </summary>
    public string ToCanonicalJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (Kty == "RSA")
            {
                w.WriteString("e", E);
                w.WriteString("kty", Kty);
                w.WriteString("n", N);
            }
            else
            {
                w.WriteString("crv", Crv);
                w.WriteString("kty", Kty);
                w.WriteString("x", X);
                w.WriteString("y", Y);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>RFC 7638 JWK thumbprint: base64url(SHA-256(canonical JSON)).</summary>
    public string Thumbprint() => Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(ToCanonicalJson())));

    /// <summary>The members of a JWKS entry (without kid, use or alg, which the caller adds).</summary>
    public IReadOnlyDictionary<string, string> ToDictionary() => Kty == "RSA"
        ? new Dictionary<string, string> { ["kty"] = Kty, ["n"] = N!, ["e"] = E! }
        : new Dictionary<string, string> { ["kty"] = Kty, ["crv"] = Crv!, ["x"] = X!, ["y"] = Y! };

    private static byte[] TrimLeadingZeros(byte[] value)
    {
        var i = 0;
        while (i < value.Length - 1 && value[i] == 0)
        {
            i++;
        }
        return value[i..];
    }
}

/// <summary>Base64url without padding (RFC 4648 section 5), as JOSE uses it. The core targets net8.0, which lacks System.Buffers.Text.Base64Url.</summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", 0 => string.Empty, _ => throw new FormatException("Not base64url: bad length.") };
        return Convert.FromBase64String(s);
    }
}

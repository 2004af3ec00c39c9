using System.Security.Cryptography;
using System.Text;

namespace Rotation.Core.Secrets;

/// <summary>
/// Identifies a value without revealing it: "sha256:" and the first 12 hex digits (48 bits) of its SHA-256.
/// Enough to tell versions apart in an audit trail; far too short to be a useful oracle for a random secret.
/// </summary>
public static class Fingerprint
{
    public const int HexDigits = 12;

    public static string Of(string value) => Of(Encoding.UTF8.GetBytes(value));

    /// <summary>Of the UTF-8 encoding of <paramref name="value"/>, zeroing the encoded copy afterwards.</summary>
    public static string OfChars(ReadOnlySpan<char> value)
    {
        var utf8 = new byte[Encoding.UTF8.GetByteCount(value)];
        try
        {
            Encoding.UTF8.GetBytes(value, utf8);
            return Of(utf8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8);
        }
    }

    public static string Of(ReadOnlySpan<byte> value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(value, hash);
        return "sha256:" + Convert.ToHexString(hash[..(HexDigits / 2)]).ToLowerInvariant();
    }
}

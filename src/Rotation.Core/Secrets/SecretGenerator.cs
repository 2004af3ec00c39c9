using System.Security.Cryptography;

namespace Rotation.Core.Secrets;

/// <summary>
/// Cryptographic generation with unbiased sampling: RandomNumberGenerator.GetInt32 rejects out-of-range draws
/// instead of reducing modulo the alphabet size, so every character is equally likely.
/// </summary>
public static partial class SecretGenerator
{
    /// <summary>URL- and connection-string-safe characters: no = + / @ : ; ' " \ (the DbPassword preset's alphabet).</summary>
    public const string ConnectionSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!*()";

    /// <summary>A password of <paramref name="length"/> characters drawn uniformly from <paramref name="alphabet"/>.</summary>
    public static string NewPassword(int length = 32, string alphabet = ConnectionSafeAlphabet)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentException.ThrowIfNullOrEmpty(alphabet);
        return string.Create(length, alphabet, static (span, a) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = a[RandomNumberGenerator.GetInt32(a.Length)];
            }
        });
    }
}

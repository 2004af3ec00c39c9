using System.Security.Cryptography;
using System.Text;

namespace Rotation.Core.Postgres;

/// <summary>
/// Computes the SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802/7677), so a role statement carries the verifier
/// and never the password: nothing readable reaches the server's statement log, pg_stat_statements or an error.
/// </summary>
public static class PgScram
{
    public const int DefaultIterations = 4096;

    /// <summary>
    /// The verifier for a password, or null when the password is not printable ASCII: the server runs SASLprep on
    /// other text, and a verifier computed without it would not match, so those passwords go as a quoted literal.
    /// </summary>
    public static string? Verifier(string password, int iterations = DefaultIterations, byte[]? salt = null)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length == 0 || password.Any(c => c is < (char)0x21 or > (char)0x7e))
        {
            return null;
        }
        salt ??= RandomNumberGenerator.GetBytes(16);
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        try
        {
            var salted = Rfc2898DeriveBytes.Pbkdf2(passwordBytes, salt, iterations, HashAlgorithmName.SHA256, 32);
            var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
            var storedKey = SHA256.HashData(clientKey);
            var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
            Array.Clear(salted);
            return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
        }
        finally
        {
            Array.Clear(passwordBytes);
        }
    }

    /// <summary>The PASSWORD clause's literal: the verifier where possible, else the quoted password.</summary>
    public static string PasswordLiteral(string password) => PgQuote.Literal(Verifier(password) ?? password);
}

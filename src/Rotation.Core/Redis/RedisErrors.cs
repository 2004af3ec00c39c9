using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Rotation.Core.Redis;

internal static class RedisErrors
{
    /// <summary>
    /// Removes secrets from a server error. Redis quotes the failing ACL SETUSER modifier ('>password',
    /// '&lt;password') verbatim, so besides the known secrets every quoted password modifier is masked too.
    /// </summary>
    public static string Redact(string text, IReadOnlyCollection<string> secrets)
    {
        foreach (var secret in secrets.Where(s => s.Length > 0).OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, "[redacted]", StringComparison.Ordinal);
        }
        return System.Text.RegularExpressions.Regex.Replace(text, "'([<>#!])[^']*'", "'$1[redacted]'");
    }
}

internal static class RedisTls
{
    /// <summary>
    /// Certificate validation: the platform's verdict, or with a CA file a chain built on exactly those roots (the
    /// name must still match). Skipping validation is an explicit, documented-unsafe choice.
    /// </summary>
    public static bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection? roots, bool skip)
    {
        if (skip)
        {
            return true;
        }
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (roots is null || certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }
}

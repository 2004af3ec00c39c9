using System.Globalization;
using Rotation.Core.Errors;

namespace Rotation.Core.Redis;

/// <summary>A Redis node as <c>host:port</c> (IPv6 as <c>[::1]:6379</c>); the port defaults to 6379.</summary>
public sealed record RedisEndpoint(string Host, int Port)
{
    public const int DefaultPort = 6379;

    public static RedisEndpoint Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Errors.Errors.InvalidArgument("Endpoint", "A Redis endpoint is empty; expected host:port, for example redis-0:6379.");
        }
        text = text.Trim();
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Invalid(text);
            }
            host = text[1..close];
            var after = text[(close + 1)..];
            if (after.Length > 0)
            {
                port = after.StartsWith(':') ? after[1..] : throw Invalid(text);
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                throw Errors.Errors.InvalidArgument(text, $"'{text}' looks like a bare IPv6 address; write it as [address]:port.");
            }
            host = colon >= 0 ? text[..colon] : text;
            port = colon >= 0 ? text[(colon + 1)..] : null;
        }
        if (host.Length == 0)
        {
            throw Invalid(text);
        }
        var p = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out p) || p is < 1 or > 65535))
        {
            throw Invalid(text);
        }
        return new RedisEndpoint(host, p);
    }

    public static IReadOnlyList<RedisEndpoint> ParseMany(IEnumerable<string> endpoints)
    {
        var list = endpoints.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(Parse).ToList();
        if (list.Count == 0)
        {
            throw Errors.Errors.InvalidArgument("Endpoint", "No Redis endpoint given; pass -Endpoint host:port (one or more).");
        }
        var dup = list.GroupBy(e => e).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
        {
            throw Errors.Errors.InvalidArgument(dup.Key.ToString(), $"The endpoint {dup.Key} is listed twice.");
        }
        return list;
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal)
        ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    private static RotationException Invalid(string text) =>
        Errors.Errors.InvalidArgument(text, $"'{text}' is not a Redis endpoint; expected host:port, for example redis-0:6379 or [::1]:6379.");
}

/// <summary>RESP version: Auto tries HELLO 3 and falls back to RESP2 on servers without HELLO (Redis before 6).</summary>
public enum RedisProtocol
{
    Auto,
    Resp2,
    Resp3,
}

/// <summary>How to reach a node: TLS, certificate validation, timeouts.</summary>
public sealed class RedisConnectionOptions
{
    public static RedisConnectionOptions Default { get; } = new();

    public bool Tls { get; init; }

    /// <summary>A PEM or DER file with the CA certificate(s) that sign the server certificate (a private CA).</summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// UNSAFE: accepts any server certificate, so anyone on the path can read the admin and rotated passwords.
    /// Only for a throwaway test server.
    /// </summary>
    public bool SkipCertificateValidation { get; init; }

    /// <summary>The TLS server name (SNI and the name the certificate must carry); defaults to the endpoint host.</summary>
    public string? ServerName { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public RedisProtocol Protocol { get; init; } = RedisProtocol.Auto;
}

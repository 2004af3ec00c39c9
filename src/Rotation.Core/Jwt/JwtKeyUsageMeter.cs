using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;

namespace Rotation.Core.Jwt;

/// <summary>How many of the tokens seen were signed by one key.</summary>
public sealed class JwtKeyUsage
{
    /// <summary>The ring key, or the token's own kid when the ring does not know it; "(unmatched)" for kid-less tokens no key verifies.</summary>
    public required string Kid { get; init; }

    /// <summary>Null when the kid is not in the ring.</summary>
    public JwtKeyStatus? Status { get; init; }

    public required int Count { get; init; }

    public required double Share { get; init; }

    /// <summary>How the tokens were attributed: "kid" (header) or "signature" (kid-less, verified against each key).</summary>
    public required string MatchedBy { get; init; }
}

/// <summary>Measure-JwtKeyUsage: the share of tokens on the active key, to gate the retirement of the old one.</summary>
public sealed class JwtKeyUsageReport
{
    public string? RingUri { get; init; }

    public required int LinesRead { get; init; }

    public required int TokenCount { get; init; }

    public required IReadOnlyList<JwtKeyUsage> Keys { get; init; }

    public string? ActiveKid { get; init; }

    /// <summary>Tokens on the active (newest signing) key over all tokens found, unmatched ones included (0 when none were found).</summary>
    public required double ActiveShare { get; init; }

    public required double Threshold { get; init; }

    /// <summary>True when at least one token was found and ActiveShare reaches Threshold.</summary>
    public bool MeetsThreshold => TokenCount > 0 && ActiveShare >= Threshold;

    public override string ToString() => $"{TokenCount} tokens, {ActiveShare:P1} on {ActiveKid ?? "no active key"}";
}

public static partial class JwtKeyUsageMeter
{
    public const string Unmatched = "(unmatched)";

    /// <summary>
    /// Finds compact JWS tokens in each line (a bare token or a log line that contains them), attributes each to a
    /// key by its header kid, or, for kid-less tokens, by verifying the signature against each ring key of the
    /// header's algorithm. Each occurrence counts: the share is of requests, not of distinct tokens.
    /// </summary>
    public static JwtKeyUsageReport Measure(JwtKeyRing ring, IEnumerable<string> lines, double threshold = 0.95)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(lines);
        if (threshold is < 0 or > 1 || double.IsNaN(threshold))
        {
            throw Errors.Errors.InvalidArgument(ring.Uri ?? "threshold", "-Threshold is a share between 0 and 1 (0.95 = 95%).");
        }
        var counts = new Dictionary<string, (int Count, string By)>(StringComparer.Ordinal);
        var lineCount = 0;
        var total = 0;
        using var checker = new JwsSignatureChecker(JwtKeyOrder.MostLikelySignerFirst(ring));
        foreach (var line in lines)
        {
            lineCount++;
            if (line is null)
            {
                continue;
            }
            foreach (Match m in TokenPattern().Matches(line))
            {
                if (Attribute(m.Value, ring, checker) is not { } hit)
                {
                    continue;
                }
                total++;
                counts[hit.Kid] = (counts.GetValueOrDefault(hit.Kid).Count + 1, hit.By);
            }
        }
        var keys = counts.OrderByDescending(c => c.Value.Count).Select(c => new JwtKeyUsage
        {
            Kid = c.Key,
            Status = ring.Find(c.Key)?.Status,
            Count = c.Value.Count,
            Share = (double)c.Value.Count / total,
            MatchedBy = c.Value.By,
        }).ToList();
        var activeKid = ring.ActiveKid;
        var activeCount = activeKid is null ? 0 : counts.GetValueOrDefault(activeKid).Count;
        return new JwtKeyUsageReport
        {
            RingUri = ring.Uri,
            LinesRead = lineCount,
            TokenCount = total,
            Keys = keys,
            ActiveKid = activeKid,
            ActiveShare = total == 0 ? 0 : (double)activeCount / total,
            Threshold = threshold,
        };
    }

    /// <summary>The lines of log files, read lazily; a missing or unreadable file is a RotationException, not a crash.</summary>
    public static IEnumerable<string> ReadLines(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var path in paths)
        {
            IEnumerator<string> lines;
            try
            {
                lines = File.ReadLines(path).GetEnumerator();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Errors.Errors.NotFound(Rotation.Core.Errors.RotationErrorIds.InvalidArgument, path, $"Cannot read the log file '{path}': {ex.Message}", ex);
            }
            using (lines)
            {
                while (lines.MoveNext())
                {
                    yield return lines.Current;
                }
            }
        }
    }

    /// <summary>The key a token belongs to, or null when the text is not a JWS at all (a false regex hit).</summary>
    private static (string Kid, string By)? Attribute(string token, JwtKeyRing ring, JwsSignatureChecker checker)
    {
        var firstDot = token.IndexOf('.', StringComparison.Ordinal);
        var lastDot = token.LastIndexOf('.');
        string? kid;
        string? alg;
        try
        {
            using var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token[..firstDot]));
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            kid = header.RootElement.TryGetProperty("kid", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            alg = header.RootElement.TryGetProperty("alg", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return null;
        }
        if (alg is null)
        {
            return null;
        }
        if (!string.IsNullOrEmpty(kid))
        {
            return (kid, "kid");
        }
        byte[] signature;
        try
        {
            signature = Base64UrlEncoder.DecodeBytes(token[(lastDot + 1)..]);
        }
        catch (FormatException)
        {
            return (Unmatched, "signature");
        }
        var signer = checker.FindSigner(alg, Encoding.ASCII.GetBytes(token[..lastDot]), signature);
        return (signer?.Kid ?? Unmatched, "signature");
    }

    // A JWS header is a JSON object, so its base64url starts with "eyJ" ('{"'). Payload and signature: base64url.
    [GeneratedRegex("eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+")]
    private static partial Regex TokenPattern();
}

using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;
using Amazon.Util;

namespace Rotation.Core.Stores;

/// <summary>
/// Signs a plain HttpRequestMessage with AWSSDK.Core's own SigV4 code: the canonical request, header pruning and
/// the signature all come from <see cref="AWS4Signer"/> (derived from only to reach its protected static
/// canonicalisation helpers), so the bytes on the wire are the ones every AWS SDK signs. The service clients
/// themselves (AWSSDK.SecretsManager) are not used: the JSON 1.1 protocol is a handful of POSTs.
/// </summary>
internal sealed class AwsSigV4 : AWS4Signer
{
    private AwsSigV4()
    {
    }

    /// <summary>Adds Host, X-Amz-Date, X-Amz-Security-Token (session credentials) and Authorization.</summary>
    public static void Sign(HttpRequestMessage request, byte[] body, ImmutableCredentials credentials, string region, string service, DateTime signedAtUtc)
    {
        var uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in request.Headers)
        {
            headers[h.Key] = string.Join(",", h.Value);
        }
        if (request.Content is not null)
        {
            foreach (var h in request.Content.Headers)
            {
                if (!h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    headers[h.Key] = string.Join(",", h.Value);
                }
            }
        }
        if (credentials.UseToken)
        {
            headers["X-Amz-Security-Token"] = credentials.Token;
        }
        InitializeHeaders(headers, uri, signedAtUtc);
        var bodyHash = AWSSDKUtils.ToHex(ComputeHash(body), true);
        var sorted = SortAndPruneHeaders(headers);
        var root = new Uri(uri.GetLeftPart(UriPartial.Authority));
        var canonical = CanonicalizeRequest(root, uri.AbsolutePath, request.Method.Method, sorted, uri.Query.TrimStart('?'), bodyHash);
        var signed = ComputeSignature(credentials, region, signedAtUtc, service, CanonicalizeHeaderNames(sorted), canonical);

        request.Headers.TryAddWithoutValidation("X-Amz-Date", headers["X-Amz-Date"]);
        if (credentials.UseToken)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.Token);
        }
        request.Headers.TryAddWithoutValidation("Authorization", signed.ForAuthorizationHeader);
    }
}

using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Redis;

/// <summary>
/// Admin connections to every node of one rotation, opened together before anything changes, so an unreachable
/// node or a wrong admin password stops the rotation while every node is still untouched.
/// </summary>
internal sealed class RedisNodeSet : IAsyncDisposable
{
    private RedisNodeSet(IReadOnlyList<RedisConnection> nodes) => Nodes = nodes;

    public IReadOnlyList<RedisConnection> Nodes { get; }

    public static async Task<RedisNodeSet> OpenAsync(IReadOnlyList<RedisEndpoint> endpoints, RotationCredential admin, RedisConnectionOptions options, CancellationToken ct)
    {
        var tasks = endpoints.Select(e => RedisConnection.ConnectAsync(e, admin, options, ct)).ToList();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception)
        {
            foreach (var t in tasks.Where(t => t.IsCompletedSuccessfully))
            {
                await t.Result.DisposeAsync().ConfigureAwait(false);
            }
            var errors = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).ToList();
            var first = errors.OfType<RotationException>().FirstOrDefault();
            if (first is null)
            {
                throw;
            }
            if (errors.Count == 1)
            {
                throw first;
            }
            throw new RotationException(first.ErrorId, first.Category, first.TargetName,
                $"{errors.Count} of {endpoints.Count} Redis nodes could not be used; nothing was changed. {string.Join(" ", errors.Select(e => e.Message))}", first);
        }
        return new RedisNodeSet(tasks.Select(t => t.Result).ToList());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes)
        {
            await n.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Password hashes as Redis keeps them (SHA-256 hex) and their fingerprints (a 12-digit prefix).</summary>
internal static class RedisPasswordHash
{
    public static string Of(string password) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(password))).ToLowerInvariant();

    /// <summary>The same text <see cref="Fingerprint.Of(string)"/> gives for the plain password.</summary>
    public static string FingerprintOfHash(string hash) => "sha256:" + hash[..Fingerprint.HexDigits].ToLowerInvariant();
}

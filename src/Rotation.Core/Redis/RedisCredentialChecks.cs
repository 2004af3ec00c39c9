using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Redis;

/// <summary>Test-RedisCredential and Get-RedisUserClient: read-only checks against every node.</summary>
public static class RedisCredentialChecks
{
    /// <summary>
    /// Logs in with <paramref name="credential"/> on a fresh connection to every node and runs PING. Success means
    /// every node accepted the login; with <paramref name="expectFailure"/>, every node refused it (WRONGPASS):
    /// an unreachable node never counts as a refusal, since it proves nothing about the password.
    /// </summary>
    public static async Task<RedisCredentialTestResult> TestAsync(IReadOnlyList<RedisEndpoint> endpoints, RotationCredential credential, bool expectFailure,
        RedisConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var reasons = new List<string>();
        var ok = true;
        string? errorId = null;
        foreach (var endpoint in endpoints)
        {
            RotationException? failure = null;
            try
            {
                await using var c = await RedisConnection.ConnectAsync(endpoint, credential, options, cancellationToken).ConfigureAwait(false);
                await c.PingAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RotationException ex)
            {
                failure = ex;
            }
            if (failure is null)
            {
                reasons.Add($"{endpoint}: login accepted");
                ok &= !expectFailure;
                if (expectFailure)
                {
                    errorId ??= RotationErrorIds.RedisVerificationFailed;
                }
            }
            else
            {
                var refused = failure.ErrorId == RotationErrorIds.RedisAuthenticationFailed;
                reasons.Add($"{endpoint}: {(refused ? "login refused" : "not checked")} ({failure.ErrorId})");
                ok &= expectFailure && refused;
                if (!(expectFailure && refused))
                {
                    errorId ??= failure.ErrorId;
                }
            }
        }
        return new RedisCredentialTestResult
        {
            Endpoint = endpoints.Select(e => e.ToString()).ToArray(),
            User = credential.UserName,
            Success = ok,
            ExpectFailure = expectFailure,
            Reason = string.Join("; ", reasons),
            ErrorId = errorId,
        };
    }

    /// <summary>CLIENT LIST on every node, filtered on user= (Redis 7.0 has no CLIENT LIST USER).</summary>
    public static async Task<IReadOnlyList<RedisClientInfo>> ListClientsAsync(IReadOnlyList<RedisEndpoint> endpoints, RotationCredential admin, string? user,
        RedisConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        await using var nodes = await RedisNodeSet.OpenAsync(endpoints, admin, options ?? RedisConnectionOptions.Default, cancellationToken).ConfigureAwait(false);
        var all = new List<RedisClientInfo>();
        foreach (var node in nodes.Nodes)
        {
            var clients = await node.ClientListAsync(cancellationToken).ConfigureAwait(false);
            all.AddRange(clients.Where(c => user is null || string.Equals(c.User, user, StringComparison.Ordinal)));
        }
        return all;
    }
}

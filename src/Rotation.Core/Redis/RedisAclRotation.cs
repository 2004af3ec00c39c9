using Rotation.Core.Secrets;

namespace Rotation.Core.Redis;

/// <summary>How Invoke-RedisAclRotation rotates (DESIGN.md section 6, seed 001/004).</summary>
public enum RedisAclStrategy
{
    /// <summary>Adds the new password to the same ACL user; the old one keeps working until it is retired.</summary>
    DualPassword,

    /// <summary>Clones the user's rules into &lt;base&gt;_v&lt;N+1&gt; with a new password; the old user is deleted when retired.</summary>
    NewUser,

    /// <summary>Legacy CONFIG SET requirepass on the default user: clients with the old password fail until restarted.</summary>
    RequirePass,
}

/// <summary>How an ACL change was made durable on the nodes (the weakest of all nodes).</summary>
public enum RedisPersistence
{
    /// <summary>Neither an ACL file nor a config file: the change is lost when the server restarts.</summary>
    None,

    ConfigRewrite,

    AclSave,
}

/// <summary>
/// The outcome of Invoke-RedisAclRotation. Binds by property name to Set-RotationSecret (Credential, Uri via
/// SecretUri), Test-RedisCredential (Endpoint, Credential) and Remove-RetiredRedisCredential (-InputObject).
/// Never shows the password: ToString and the format view carry its fingerprint only.
/// </summary>
public sealed class RedisAclRotation
{
    public required string[] Endpoint { get; init; }

    /// <summary>The user that was rotated (the -User given).</summary>
    public required string User { get; init; }

    /// <summary>The user whose old credential is retired later: the same user for DualPassword, the old user for NewUser.</summary>
    public required string PreviousUser { get; init; }

    /// <summary>The user that holds the new password: the same user, the new &lt;base&gt;_vN user, or 'default'.</summary>
    public required string NewUser { get; init; }

    public required RedisAclStrategy Strategy { get; init; }

    /// <summary>The new login (NewUser and the new password).</summary>
    public required RotationCredential Credential { get; init; }

    /// <summary>The store the credential was published to (Current), when -Uri was given.</summary>
    public string? SecretUri { get; init; }

    public required string RunId { get; init; }

    public required RedisPersistence Persistence { get; init; }

    public required DateTimeOffset RotatedAt { get; init; }

    /// <summary>Fingerprints (sha256: and 12 hex digits) of the passwords the user had before; what retiring removes.</summary>
    public string[] RetiredFingerprints { get; init; } = [];

    public string Fingerprint => Credential.PasswordFingerprint;

    public override string ToString() => $"{Strategy} {PreviousUser} -> {NewUser} on {string.Join(",", Endpoint)} ({Fingerprint})";
}

/// <summary>What Test-RedisCredential -Detailed returns.</summary>
public sealed class RedisCredentialTestResult
{
    public required string[] Endpoint { get; init; }

    public required string User { get; init; }

    /// <summary>The test's verdict: the login worked on every node (or, with ExpectFailure, was refused on every node).</summary>
    public required bool Success { get; init; }

    public required bool ExpectFailure { get; init; }

    /// <summary>Why, per node, without any secret.</summary>
    public required string Reason { get; init; }

    /// <summary>The error id of the first failing node (RedisAuthenticationFailed, RedisUnreachable...), if any.</summary>
    public string? ErrorId { get; init; }

    public override string ToString() => $"{User}: {(Success ? "passed" : "failed")} ({Reason})";
}

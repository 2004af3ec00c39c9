using Rotation.Core.Secrets;

namespace Rotation.Core.Postgres;

/// <summary>How Invoke-DbUserRotation replaces a database credential.</summary>
public enum DbRotationStrategy
{
    /// <summary>Create &lt;base&gt;_v&lt;N+1&gt; with the same rights; the old login works until it is retired. Zero downtime.</summary>
    NewUser,

    /// <summary>Two fixed logins (app_a, app_b): reset the one not in use and switch to it. Zero downtime.</summary>
    AlternatingUsers,

    /// <summary>One login, new password. New logins with the old password fail at once: not zero-downtime.</summary>
    AlterPassword,
}

/// <summary>
/// The result of a PostgreSQL credential rotation. Binds by property name to Set-RotationSecret (Credential),
/// Test-DbCredential (Server, Port, Database, Credential) and Remove-RetiredDbUser (Server, Port, Database, User).
/// It deliberately has no Uri property: the store it wrote is <see cref="SecretUri"/>, so
/// <c>$r | Set-RotationSecret -Uri k8s://...</c> always publishes to the URI written on the command line and never
/// silently back into the rotation's own store.
/// </summary>
public sealed class DbUserRotation
{
    public required string Server { get; init; }

    public required int Port { get; init; }

    public required string Database { get; init; }

    /// <summary>The login that was in use before (the one Remove-RetiredDbUser retires).</summary>
    public required string PreviousUser { get; init; }

    /// <summary>The login now in use (equal to <see cref="PreviousUser"/> for AlterPassword).</summary>
    public required string NewUser { get; init; }

    /// <summary>
    /// The login being rotated, as given to -User: binds to Remove-RetiredDbUser -User, which retires the rotated
    /// family's retired roles (the previous user here).
    /// </summary>
    public required string User { get; init; }

    public required DbRotationStrategy Strategy { get; init; }

    /// <summary>The new login (user name and password); the cmdlet layer turns it into a PSCredential.</summary>
    public required RotationCredential Credential { get; init; }

    /// <summary>Where the credential was staged and promoted (file://..., aws-sm://...).</summary>
    public required string SecretUri { get; init; }

    public required string RunId { get; init; }

    /// <summary>Objects the previous user owns: ownership is not copied, so move them to a group role.</summary>
    public IReadOnlyList<string> OwnedObjects { get; init; } = [];

    public string Fingerprint => Credential.PasswordFingerprint;

    public override string ToString() => $"{PreviousUser} -> {NewUser} on {Server}:{Port}/{Database} ({Strategy}, run {RunId})";
}

/// <summary>Test-DbCredential -Detailed: whether a real unpooled login succeeded, and if not, why.</summary>
public sealed class DbCredentialTestResult
{
    public required string Server { get; init; }
    public required int Port { get; init; }
    public string? Database { get; init; }
    public required string User { get; init; }
    public required DbLoginOutcome Reason { get; init; }

    /// <summary>True when the outcome is what the caller expected (a login, or with -ExpectFailure a refusal).</summary>
    public required bool Passed { get; init; }

    public bool Succeeded => Reason == DbLoginOutcome.Succeeded;

    public string? ErrorId { get; init; }

    public string? Message { get; init; }

    public TimeSpan Elapsed { get; init; }

    public override string ToString() => $"{User}@{Server}:{Port}/{Database}: {Reason}";
}

/// <summary>What Remove-RetiredDbUser did to one retired login (written with -PassThru).</summary>
public sealed class DbRetiredUser
{
    public required string Server { get; init; }
    public required int Port { get; init; }
    public string? Database { get; init; }
    public required string User { get; init; }

    /// <summary>Dropped (NewUser / AlterPassword family) or Disabled (NOLOGIN: one of an alternating pair, reused next time).</summary>
    public required string Action { get; init; }

    public DateTimeOffset RetiredAt { get; init; }
    public string? Successor { get; init; }
    public int SessionsTerminated { get; init; }
    public string? ObjectsReassignedTo { get; init; }

    /// <summary>The new name of the successor when -RenameTo was used.</summary>
    public string? RenamedTo { get; init; }

    /// <summary>True once a login as the retired user was refused afterwards.</summary>
    public bool OldLoginRejected { get; init; }

    public override string ToString() => $"{User} {Action}";
}

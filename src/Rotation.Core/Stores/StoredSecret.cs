using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>One version of a secret as read from or written to a store.</summary>
public sealed class StoredSecret
{
    public required SecretStoreUri Uri { get; init; }

    /// <summary>The backend's version id (AWS VersionId, Vault version number, GCP version, K8s resourceVersion...).</summary>
    public required string VersionId { get; init; }

    /// <summary>The stages this version carries now (a version can be Current and nothing else, Pending, Previous).</summary>
    public required IReadOnlyList<SecretStage> Stages { get; init; }

    public required SecretValue Value { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>The run that wrote this version (holds the lease while it is Pending), when known.</summary>
    public string? RunId { get; init; }

    public string Fingerprint => Value.Fingerprint;
}

/// <summary>A version's metadata without its value, as listed by <see cref="ISecretStore.DescribeAsync"/>.</summary>
public sealed class SecretVersionInfo
{
    public required string VersionId { get; init; }
    public required IReadOnlyList<SecretStage> Stages { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public string? RunId { get; init; }
    public string? Fingerprint { get; init; }
}

public sealed class SecretDescription
{
    public required SecretStoreUri Uri { get; init; }
    public required bool Exists { get; init; }
    public required IReadOnlyList<SecretVersionInfo> Versions { get; init; }

    /// <summary>The run holding the pending lease, if a Pending version exists.</summary>
    public string? PendingRunId => Versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending))?.RunId;

    public bool HasPending => Versions.Any(v => v.Stages.Contains(SecretStage.Pending));
}

/// <summary>How a write is made.</summary>
public sealed class SecretWriteOptions
{
    /// <summary>The run writing the value. A Pending write records it as the lease holder.</summary>
    public string? RunId { get; init; }

    /// <summary>
    /// Idempotency token: a retried write with the same token never creates a second version (AWS
    /// ClientRequestToken). Callers that retry (run steps) pass a token derived from run id and step.
    /// </summary>
    public string? ClientRequestToken { get; init; }

    /// <summary>Free-form description kept with the version where the backend allows it (never the value).</summary>
    public string? Description { get; init; }
}

using System.Security;

namespace Rotation.Core.Kubernetes;

/// <summary>
/// A Kubernetes Secret as Get-KubeSecret / Set-KubeSecret -PassThru emit it. Values are SecureString; the plain
/// map is filled only behind -AsPlainText. Context, Namespace and Name bind to the next Kube cmdlet.
/// </summary>
public sealed class KubeSecret
{
    public required string Context { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }

    /// <summary>The store address of the whole secret (k8s://context/namespace/name).</summary>
    public string Uri => $"k8s://{Context}/{Namespace}/{Name}";

    public string Type { get; init; } = "Opaque";

    /// <summary>The keys consumers read (Rotation's staged copies are not listed).</summary>
    public required IReadOnlyList<string> Keys { get; init; }

    public required IReadOnlyDictionary<string, SecureString> Data { get; init; }

    /// <summary>Null unless requested with -AsPlainText.</summary>
    public IReadOnlyDictionary<string, string>? PlainData { get; init; }

    public required string ResourceVersion { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>When the keys consumers read last changed (Rotation's annotation, else the newest managedFields time).</summary>
    public DateTimeOffset? ChangedAt { get; init; }

    /// <summary>Fingerprint of the whole data map: tells two versions apart without showing them.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The run holding a rotation lease (a Pending value) on this secret, if any.</summary>
    public string? PendingRunId { get; init; }

    public override string ToString() => $"secret/{Name} ({Keys.Count} keys, {Fingerprint})";
}

public enum KubeRolloutStatus
{
    /// <summary>The restart annotation was written; the controller has not finished yet.</summary>
    Restarted,

    /// <summary>-WhatIf or nothing to do.</summary>
    NotStarted,
    Progressing,
    Complete,
    TimedOut,
    Failed,
}

/// <summary>
/// One workload's rollout: emitted by Restart-KubeWorkload and Wait-KubeRollout (Context, Namespace and Workload
/// bind by property name, so Restart-KubeWorkload | Wait-KubeRollout works).
/// </summary>
public sealed class KubeRollout
{
    public required string Context { get; init; }
    public required string Namespace { get; init; }

    /// <summary><c>kind/name</c>, as kubectl writes it: deployment/backend.</summary>
    public string Workload => $"{Kind.ToLowerInvariant()}/{Name}";

    public required string Kind { get; init; }
    public required string Name { get; init; }

    /// <summary>The kubectl.kubernetes.io/restartedAt value this restart wrote (or the one found on the template).</summary>
    public DateTimeOffset? RestartedAt { get; init; }

    public KubeRolloutStatus Status { get; init; }

    public long Generation { get; init; }
    public long ObservedGeneration { get; init; }
    public int DesiredReplicas { get; init; }
    public int UpdatedReplicas { get; init; }
    public int ReadyReplicas { get; init; }
    public int AvailableReplicas { get; init; }

    /// <summary>kubectl rollout status's last line: what the rollout waits for, or that it finished.</summary>
    public string? Message { get; init; }

    /// <summary>Pods that are not ready, with why (CrashLoopBackOff, ImagePullBackOff, Unschedulable, not ready).</summary>
    public IReadOnlyList<KubePodProblem> StuckPods { get; init; } = [];

    /// <summary>How the workload reads the secret, when restarted with -All -SecretName.</summary>
    public IReadOnlyList<string> ConsumedVia { get; init; } = [];

    public override string ToString() => $"{Workload} {Status}";
}

/// <summary>A pod that keeps a rollout from finishing, and why.</summary>
public sealed class KubePodProblem
{
    public required string Name { get; init; }
    public string? Phase { get; init; }
    public string? Container { get; init; }

    /// <summary>CrashLoopBackOff, ImagePullBackOff, ErrImagePull, Unschedulable, OOMKilled, NotReady, ...</summary>
    public required string Reason { get; init; }

    public string? Message { get; init; }
    public int RestartCount { get; init; }

    public override string ToString() => $"{Name}: {Reason}{(Message is null ? string.Empty : " (" + Message + ")")}";
}

/// <summary>
/// A pod (or a workload without pods) that reads a secret, with its start time against the secret's last change.
/// Stale means the pod started before the change, so it still holds the old value (env vars never refresh; mounted
/// files do, but most processes read them once at start). Context, Namespace and Workload bind to Restart-KubeWorkload.
/// </summary>
public sealed class KubeSecretConsumer
{
    public required string Context { get; init; }
    public required string Namespace { get; init; }

    /// <summary>The secret's name.</summary>
    public required string Name { get; init; }

    /// <summary><c>kind/name</c> of the owning workload; null for a bare pod.</summary>
    public string? Workload { get; init; }

    public string? Pod { get; init; }

    /// <summary>volume, projected, env, envFrom.</summary>
    public required IReadOnlyList<string> ConsumedVia { get; init; }

    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? SecretChangedAt { get; init; }
    public bool Stale { get; init; }

    /// <summary>Why the row is stale (or not), in a sentence.</summary>
    public string? Reason { get; init; }

    public override string ToString() => $"{Workload ?? "pod"}/{Pod} {(Stale ? "stale" : "current")}";
}

public enum KubeExternalSecretSyncStatus
{
    /// <summary>The force-sync annotation was written; not waited for.</summary>
    Requested,
    NotStarted,
    Synced,
    TimedOut,
    Failed,
}

/// <summary>One ExternalSecret's forced refresh, from Sync-ExternalSecret.</summary>
public sealed class KubeExternalSecretSync
{
    public required string Context { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string ApiVersion { get; init; }

    /// <summary>The moment the force-sync annotation was written.</summary>
    public DateTimeOffset? RequestedAt { get; init; }

    /// <summary>status.refreshTime as last seen.</summary>
    public DateTimeOffset? RefreshTime { get; init; }

    public bool Ready { get; init; }
    public KubeExternalSecretSyncStatus Status { get; init; }
    public string? Message { get; init; }

    public override string ToString() => $"externalsecret/{Name} {Status}";
}

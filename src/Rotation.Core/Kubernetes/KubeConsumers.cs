using System.Globalization;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;

namespace Rotation.Core.Kubernetes;

public sealed partial class KubeOperations
{
    /// <summary>
    /// The workloads and pods that read a secret, each pod with its start time against the secret's last change
    /// (Rotation's changed-at annotation, else the newest managedFields time). A pod that started before the change
    /// is Stale: it still holds the old value (env vars never refresh; a mounted file does, but processes usually
    /// read it once). A workload with no pods yields one row without a pod.
    /// </summary>
    public async Task<IReadOnlyList<KubeSecretConsumer>> GetConsumersAsync(string? context, string? ns, string secretName, CancellationToken cancellationToken = default)
    {
        var client = Client(context);
        ns ??= client.DefaultNamespace;
        var secret = await client.GetAsync(KubeResourceType.Secrets, ns, secretName, cancellationToken).ConfigureAwait(false);
        var changedAt = KubeSecretDocument.From(secret).ChangedAt;
        var podList = await client.ListAsync(KubeResourceType.Pods, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        var pods = (podList["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<KubeSecretConsumer>();
        foreach (var type in KubeResourceType.Workloads)
        {
            var list = await client.ListAsync(type, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var w in (list["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var via = SecretReferences(w["spec"]?["template"]?["spec"] as JsonObject, secretName);
                if (via.Count == 0)
                {
                    continue;
                }
                var workload = $"{type.ShortKind}/{w["metadata"]!["name"]!.GetValue<string>()}";
                var matchLabels = w["spec"]?["selector"]?["matchLabels"] as JsonObject;
                var mine = pods.Where(p => matchLabels is { Count: > 0 } && matchLabels.All(kv => p["metadata"]?["labels"]?[kv.Key]?.GetValue<string>() == kv.Value?.GetValue<string>())).ToList();
                if (mine.Count == 0)
                {
                    rows.Add(new KubeSecretConsumer
                    {
                        Context = client.Context,
                        Namespace = ns,
                        Name = secretName,
                        Workload = workload,
                        ConsumedVia = via,
                        SecretChangedAt = changedAt,
                        Reason = "no pods are running",
                    });
                }
                foreach (var p in mine)
                {
                    claimed.Add(p["metadata"]!["name"]!.GetValue<string>());
                    rows.Add(PodRow(client.Context, ns, secretName, workload, p, SecretReferences(p["spec"] as JsonObject, secretName) is { Count: > 0 } podVia ? podVia : via, changedAt));
                }
            }
        }
        foreach (var p in pods.Where(p => !claimed.Contains(p["metadata"]!["name"]!.GetValue<string>())))
        {
            var via = SecretReferences(p["spec"] as JsonObject, secretName);
            if (via.Count > 0)
            {
                rows.Add(PodRow(client.Context, ns, secretName, Owner(p), p, via, changedAt));
            }
        }
        return rows;
    }

    private static KubeSecretConsumer PodRow(string context, string ns, string secret, string? workload, JsonObject pod, IReadOnlyList<string> via, DateTimeOffset? changedAt)
    {
        var started = KubeSecretDocument.ParseTime(pod["status"]?["startTime"]?.GetValue<string>());
        // Start times have second precision: a pod started in the same second as the change counts as current.
        var stale = started is not null && changedAt is not null && started.Value < Truncate(changedAt.Value);
        var envOnly = via.All(v => v is "env" or "envFrom");
        string reason;
        if (started is null)
        {
            reason = "the pod has not started yet";
        }
        else if (changedAt is null)
        {
            reason = "the secret's last change is unknown";
        }
        else if (!stale)
        {
            reason = "started after the secret last changed";
        }
        else
        {
            reason = envOnly
                ? "started before the secret changed and reads it through environment variables, which never refresh: restart it"
                : "started before the secret changed: the mounted file refreshes, but the process may hold the old value until restarted";
        }
        return new KubeSecretConsumer
        {
            Context = context,
            Namespace = ns,
            Name = secret,
            Workload = workload,
            Pod = pod["metadata"]?["name"]?.GetValue<string>(),
            ConsumedVia = via,
            StartedAt = started,
            SecretChangedAt = changedAt,
            Stale = stale,
            Reason = reason,
        };
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), t.Offset);

    /// <summary>The owning workload of a pod outside the listed workloads (a ReplicaSet's name minus its template hash).</summary>
    private static string? Owner(JsonObject pod)
    {
        var owner = (pod["metadata"]?["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(o => o["controller"]?.GetValue<bool>() == true);
        if (owner is null)
        {
            return null;
        }
        var kind = owner["kind"]?.GetValue<string>() ?? string.Empty;
        var name = owner["name"]?.GetValue<string>() ?? string.Empty;
        if (kind == "ReplicaSet" && pod["metadata"]?["labels"]?["pod-template-hash"]?.GetValue<string>() is { } hash && name.EndsWith("-" + hash, StringComparison.Ordinal))
        {
            return "deployment/" + name[..^(hash.Length + 1)];
        }
        return $"{kind.ToLowerInvariant()}/{name}";
    }

    // ---- External Secrets ------------------------------------------------------------------------------------------

    /// <summary>The annotation External Secrets Operator watches to refresh an ExternalSecret now.</summary>
    public const string ForceSyncAnnotation = "force-sync";

    /// <summary>
    /// The ExternalSecrets to sync: one by name, or all in the namespace. Uses the served version of
    /// external-secrets.io (v1, else v1beta1); ExternalSecretsNotInstalled when the group is absent.
    /// </summary>
    public async Task<IReadOnlyList<KubeExternalSecretTarget>> ResolveExternalSecretsAsync(string? context, string? ns, string? name, CancellationToken cancellationToken = default)
    {
        var client = Client(context);
        ns ??= client.DefaultNamespace;
        var versions = await client.GroupVersionsAsync(KubeResourceType.ExternalSecretsGroup, cancellationToken).ConfigureAwait(false);
        var version = new[] { "v1", "v1beta1" }.FirstOrDefault(v => versions.Contains(v, StringComparer.Ordinal))
            ?? throw new RotationException(RotationErrorIds.ExternalSecretsNotInstalled, RotationErrorCategory.NotInstalled, $"k8s://{client.Context}/{ns}",
                $"The cluster of context '{client.Context}' serves no external-secrets.io/v1 or v1beta1 API (served: {(versions.Count == 0 ? "none" : string.Join(", ", versions))}). Install External Secrets Operator, or check the context.");
        var type = KubeResourceType.ExternalSecrets(version);
        if (name is not null)
        {
            await client.GetAsync(type, ns, name, cancellationToken).ConfigureAwait(false);
            return [new KubeExternalSecretTarget { Context = client.Context, Namespace = ns, Name = name, Type = type }];
        }
        var list = await client.ListAsync(type, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (list["items"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(o => new KubeExternalSecretTarget { Context = client.Context, Namespace = ns, Name = o["metadata"]!["name"]!.GetValue<string>(), Type = type })
            .ToList();
    }

    /// <summary>
    /// Sets force-sync (unix seconds, as the External Secrets docs do) with a merge patch; with a timeout, waits until
    /// status.refreshTime (or the Ready condition's lastTransitionTime) moves past the moment of the request. A Ready
    /// condition that turns False after the request fails at once with the operator's message.
    /// </summary>
    public async Task<KubeExternalSecretSync> SyncExternalSecretAsync(KubeExternalSecretTarget target, TimeSpan? wait, CancellationToken cancellationToken = default)
    {
        var client = Client(target.Context);
        var before = await client.GetAsync(target.Type, target.Namespace, target.Name, cancellationToken).ConfigureAwait(false);
        var previousRefresh = RefreshTime(before);
        var previousTransition = ReadyCondition(before)?.LastTransition;
        var requestedAt = client.Clock.GetUtcNow();
        var value = requestedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        if (before["metadata"]?["annotations"]?[ForceSyncAnnotation]?.GetValue<string>() == value)
        {
            // Same second as the last request: a different value is what triggers the operator.
            value = requestedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [ForceSyncAnnotation] = value } } };
        var patched = await AuditedAsync("k8s.external_secret_sync_requested", $"k8s://{target.Context}/{target.Namespace}/externalsecret/{target.Name}",
            () => client.PatchAsync(target.Type, target.Namespace, target.Name, "application/merge-patch+json", patch, cancellationToken)).ConfigureAwait(false);
        Log.Verbose($"Requested a sync of externalsecret/{target.Name} in namespace '{target.Namespace}' ({ForceSyncAnnotation}={value}).");
        if (wait is null)
        {
            return ToSync(target, patched, requestedAt, KubeExternalSecretSyncStatus.Requested, "sync requested");
        }
        // refreshTime has second precision: anything from the request's second on, and different from before, is new.
        var floor = Truncate(requestedAt);
        string? failure = null;
        var (last, done) = await client.WaitForAsync(target.Type, target.Namespace, target.Name, obj =>
        {
            var refresh = RefreshTime(obj);
            var ready = ReadyCondition(obj);
            if (refresh is { } r && r >= floor && r != previousRefresh && ready?.Status != "False")
            {
                return true;
            }
            if (ready is { } c && c.LastTransition is { } t && t >= floor && t != previousTransition)
            {
                if (c.Status == "True")
                {
                    return true;
                }
                failure = $"{c.Reason}: {c.Message}";
                return true;
            }
            return false;
        }, wait.Value, cancellationToken).ConfigureAwait(false);
        var state = last ?? patched;
        var auditTarget = $"k8s://{target.Context}/{target.Namespace}/externalsecret/{target.Name}";
        if (failure is not null)
        {
            WriteAudit("k8s.external_secret_synced", auditTarget, false, null, failure);
            throw new RotationException(RotationErrorIds.ExternalSecretSyncFailed, RotationErrorCategory.InvalidResult, $"k8s://{target.Context}/{target.Namespace}/{target.Name}",
                $"External Secrets Operator could not sync externalsecret/{target.Name} in namespace '{target.Namespace}' of context '{target.Context}': {failure}. " +
                "Check the SecretStore and the provider secret; the Kubernetes Secret still holds the last synced value.");
        }
        if (!done)
        {
            var sync = ToSync(target, state, requestedAt, KubeExternalSecretSyncStatus.TimedOut, "no refresh after the request");
            WriteAudit("k8s.external_secret_synced", auditTarget, false, null, RotationErrorIds.ExternalSecretSyncTimedOut);
            throw new RotationException(RotationErrorIds.ExternalSecretSyncTimedOut, RotationErrorCategory.OperationTimeout, $"k8s://{target.Context}/{target.Namespace}/{target.Name}",
                $"externalsecret/{target.Name} in namespace '{target.Namespace}' of context '{target.Context}' did not refresh within {wait.Value} after {ForceSyncAnnotation}={value} " +
                $"(status.refreshTime is still {sync.RefreshTime?.ToString("u", CultureInfo.InvariantCulture) ?? "unset"}). Check that External Secrets Operator is running and watching this namespace.");
        }
        WriteAudit("k8s.external_secret_synced", auditTarget, true, null, null);
        return ToSync(target, state, requestedAt, KubeExternalSecretSyncStatus.Synced, "synced");
    }

    private static KubeExternalSecretSync ToSync(KubeExternalSecretTarget target, JsonObject obj, DateTimeOffset requestedAt, KubeExternalSecretSyncStatus status, string message)
    {
        var ready = ReadyCondition(obj);
        return new KubeExternalSecretSync
        {
            Context = target.Context,
            Namespace = target.Namespace,
            Name = target.Name,
            ApiVersion = target.Type.ApiVersion,
            RequestedAt = requestedAt,
            RefreshTime = RefreshTime(obj),
            Ready = ready?.Status == "True",
            Status = status,
            Message = ready?.Message ?? message,
        };
    }

    private static DateTimeOffset? RefreshTime(JsonObject obj) => KubeSecretDocument.ParseTime(obj["status"]?["refreshTime"]?.GetValue<string>());

    private static (string? Status, string? Reason, string? Message, DateTimeOffset? LastTransition)? ReadyCondition(JsonObject obj)
    {
        var c = (obj["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "Ready");
        return c is null ? null : (c["status"]?.GetValue<string>(), c["reason"]?.GetValue<string>(), c["message"]?.GetValue<string>(),
            KubeSecretDocument.ParseTime(c["lastTransitionTime"]?.GetValue<string>()));
    }
}

/// <summary>An ExternalSecret resolved for a sync.</summary>
public sealed class KubeExternalSecretTarget
{
    public required string Context { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required KubeResourceType Type { get; init; }

    public override string ToString() => $"externalsecret/{Name} in namespace '{Namespace}' of context '{Context}'";
}

using System.Globalization;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;

namespace Rotation.Core.Kubernetes;

/// <summary>A workload resolved for a restart: where it is and, for -All -SecretName, how it reads the secret.</summary>
public sealed class KubeRolloutTarget
{
    public required string Context { get; init; }
    public required string Namespace { get; init; }
    public required KubeResourceType Type { get; init; }
    public required string Name { get; init; }
    public IReadOnlyList<string> ConsumedVia { get; init; } = [];

    public string Workload => $"{Type.ShortKind}/{Name}";

    public override string ToString() => $"{Workload} in namespace '{Namespace}' of context '{Context}'";
}

/// <summary>Remembers what was restarted in one call, so each workload restarts once however often it is named.</summary>
public sealed class KubeRestartSet
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public bool TryAdd(KubeRolloutTarget target) => _seen.Add($"{target.Context}\n{target.Namespace}\n{target.Workload}");
}

public sealed partial class KubeOperations
{
    /// <summary>The annotation kubectl rollout restart sets on the pod template.</summary>
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    /// <summary>
    /// Resolves the workloads to restart: named ones (<c>kind/name</c>), those matching a label selector, or (with a
    /// secret name) every Deployment, StatefulSet and DaemonSet whose pod template reads the secret through a
    /// volume, a projected volume, env valueFrom or envFrom. Read-only; each result appears once.
    /// </summary>
    public async Task<IReadOnlyList<KubeRolloutTarget>> ResolveWorkloadsAsync(string? context, string? ns, IEnumerable<string>? workloads,
        string? selector, string? secretName, CancellationToken cancellationToken = default)
    {
        var client = Client(context);
        ns ??= client.DefaultNamespace;
        var result = new List<KubeRolloutTarget>();
        foreach (var w in workloads ?? [])
        {
            var (type, name) = ParseWorkload(w, client.Context, ns);
            // A GET now turns a typo into a clear not-found before anything is restarted.
            await client.GetAsync(type, ns, name, cancellationToken).ConfigureAwait(false);
            result.Add(new KubeRolloutTarget { Context = client.Context, Namespace = ns, Type = type, Name = name });
        }
        if (selector is not null || secretName is not null)
        {
            foreach (var type in KubeResourceType.Workloads)
            {
                var list = await client.ListAsync(type, ns, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var item in (list["items"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    var via = secretName is null ? [] : SecretReferences(item["spec"]?["template"]?["spec"] as JsonObject, secretName);
                    if (secretName is not null && via.Count == 0)
                    {
                        continue;
                    }
                    result.Add(new KubeRolloutTarget
                    {
                        Context = client.Context,
                        Namespace = ns,
                        Type = type,
                        Name = item["metadata"]!["name"]!.GetValue<string>(),
                        ConsumedVia = via,
                    });
                }
            }
        }
        return result.DistinctBy(t => t.Workload).ToList();
    }

    public static (KubeResourceType Type, string Name) ParseWorkload(string workload, string context, string ns)
    {
        var slash = workload.IndexOf('/', StringComparison.Ordinal);
        var type = slash > 0 ? KubeResourceType.ParseWorkloadKind(workload[..slash]) : null;
        if (type is null || slash == workload.Length - 1)
        {
            throw new RotationException(RotationErrorIds.KubeWorkloadInvalid, RotationErrorCategory.InvalidArgument, workload,
                $"'{workload}' is not a workload reference: give kind/name with kind deployment, statefulset or daemonset (for example deployment/backend), in namespace '{ns}' of context '{context}'.");
        }
        return (type, workload[(slash + 1)..]);
    }

    /// <summary>
    /// kubectl rollout restart: one strategic-merge PATCH setting the pod template annotation
    /// kubectl.kubernetes.io/restartedAt to now (RFC 3339, UTC). The controller then replaces the pods.
    /// </summary>
    public async Task<KubeRollout> RestartAsync(KubeRolloutTarget target, CancellationToken cancellationToken = default)
    {
        var client = Client(target.Context);
        var current = await client.GetAsync(target.Type, target.Namespace, target.Name, cancellationToken).ConfigureAwait(false);
        if (current["spec"]?["paused"]?.GetValue<bool>() == true)
        {
            throw new RotationException(RotationErrorIds.KubeWorkloadInvalid, RotationErrorCategory.InvalidOperation, target.Workload,
                $"Cannot restart {target}: it is paused. Resume it first (kubectl rollout resume {target.Workload} -n {target.Namespace}).");
        }
        var strategy = current["spec"]?[target.Type == KubeResourceType.StatefulSets || target.Type == KubeResourceType.DaemonSets ? "updateStrategy" : "strategy"]?["type"]?.GetValue<string>();
        if (strategy == "OnDelete")
        {
            throw new RotationException(RotationErrorIds.KubeWorkloadInvalid, RotationErrorCategory.InvalidOperation, target.Workload,
                $"Cannot restart {target}: its update strategy is OnDelete, so a template change replaces no pod. Delete its pods instead.");
        }
        var now = client.Clock.GetUtcNow();
        var stamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (current["spec"]?["template"]?["metadata"]?["annotations"]?[RestartedAtAnnotation]?.GetValue<string>() == stamp)
        {
            // Restarted already in this second (kubectl's precision): the same value would change nothing and
            // start no rollout, so pods that read a secret changed since would keep it. Sub-seconds make it new.
            stamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        }
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [RestartedAtAnnotation] = stamp } },
                },
            },
        };
        var updated = await AuditedAsync("k8s.workload_restarted", $"k8s://{target.Context}/{target.Namespace}/{target.Workload}",
            () => client.PatchAsync(target.Type, target.Namespace, target.Name, "application/strategic-merge-patch+json", patch, cancellationToken)).ConfigureAwait(false);
        Log.Verbose($"Restarted {target} (restartedAt {stamp}).");
        var state = KubeRolloutEvaluator.Evaluate(target.Type, updated);
        return ToRollout(target.Context, target.Namespace, target.Type, updated, state, KubeRolloutStatus.Restarted, [], target.ConsumedVia,
            DateTimeOffset.Parse(stamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
    }

    /// <summary>
    /// kubectl rollout status, verified: done only when the controller observed the latest generation and every
    /// replica is updated and available (per kind, as kubectl's status viewers define it). On timeout returns
    /// TimedOut with the pods that are not ready and why; a ProgressDeadlineExceeded condition returns Failed.
    /// </summary>
    public async Task<KubeRollout> WaitRolloutAsync(string? context, string? ns, string workload, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var client = Client(context);
        ns ??= client.DefaultNamespace;
        var (type, name) = ParseWorkload(workload, client.Context, ns);
        KubeRolloutState? state = null;
        var (last, done) = await client.WaitForAsync(type, ns, name, obj =>
        {
            state = KubeRolloutEvaluator.Evaluate(type, obj);
            return state.Done || state.Failed;
        }, timeout, cancellationToken).ConfigureAwait(false);
        if (last is null)
        {
            throw new RotationException(RotationErrorIds.RolloutTimedOut, RotationErrorCategory.OperationTimeout, workload,
                $"The rollout of {workload} in namespace '{ns}' of context '{client.Context}' could not be read within {timeout}.");
        }
        state ??= KubeRolloutEvaluator.Evaluate(type, last);
        var auditTarget = $"k8s://{client.Context}/{ns}/{type.ShortKind}/{name}";
        if (done && state.Done)
        {
            Log.Verbose($"{workload} in namespace '{ns}': {state.Message}");
            WriteAudit("k8s.rollout_verified", auditTarget, true, null, null);
            return ToRollout(client.Context, ns, type, last, state, KubeRolloutStatus.Complete, [], [], null);
        }
        var stuck = await StuckPodsAsync(client, ns, last, cancellationToken).ConfigureAwait(false);
        var result = ToRollout(client.Context, ns, type, last, state, state.Failed ? KubeRolloutStatus.Failed : KubeRolloutStatus.TimedOut, stuck, [], null);
        WriteAudit("k8s.rollout_verified", auditTarget, false, null, RolloutError(result, timeout).Message);
        return result;
    }

    /// <summary>The exception for a rollout that did not finish: names the workload, the wait, and each stuck pod.</summary>
    public static RotationException RolloutError(KubeRollout rollout, TimeSpan timeout)
    {
        var pods = rollout.StuckPods.Count == 0 ? "no pod reports a problem yet" : "stuck pods: " + string.Join("; ", rollout.StuckPods);
        return rollout.Status == KubeRolloutStatus.Failed
            ? new RotationException(RotationErrorIds.RolloutFailed, RotationErrorCategory.InvalidResult, rollout.Workload,
                $"The rollout of {rollout.Workload} in namespace '{rollout.Namespace}' of context '{rollout.Context}' failed: {rollout.Message}; {pods}. " +
                $"Fix the cause, or roll back with 'kubectl rollout undo {rollout.Workload} -n {rollout.Namespace}'.")
            : new RotationException(RotationErrorIds.RolloutTimedOut, RotationErrorCategory.OperationTimeout, rollout.Workload,
                $"The rollout of {rollout.Workload} in namespace '{rollout.Namespace}' of context '{rollout.Context}' did not complete within {timeout}: {rollout.Message}; {pods}. " +
                "The old pods keep serving; fix the cause or roll back, then wait again.");
    }

    private static async Task<IReadOnlyList<KubePodProblem>> StuckPodsAsync(KubeClient client, string ns, JsonObject workload, CancellationToken cancellationToken)
    {
        if (workload["spec"]?["selector"]?["matchLabels"] is not JsonObject labels || labels.Count == 0)
        {
            return [];
        }
        var selector = string.Join(',', labels.Select(kv => $"{kv.Key}={kv.Value?.GetValue<string>()}"));
        var pods = await client.ListAsync(KubeResourceType.Pods, ns, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (pods["items"] as JsonArray ?? []).OfType<JsonObject>().Select(KubeRolloutEvaluator.Problem).OfType<KubePodProblem>().ToList();
    }

    private static KubeRollout ToRollout(string context, string ns, KubeResourceType type, JsonObject obj, KubeRolloutState state, KubeRolloutStatus status,
        IReadOnlyList<KubePodProblem> stuck, IReadOnlyList<string> via, DateTimeOffset? restartedAt) => new()
        {
            Context = context,
            Namespace = ns,
            Kind = type.Kind,
            Name = obj["metadata"]?["name"]?.GetValue<string>() ?? string.Empty,
            RestartedAt = restartedAt ?? KubeSecretDocument.ParseTime(obj["spec"]?["template"]?["metadata"]?["annotations"]?[RestartedAtAnnotation]?.GetValue<string>()),
            Status = status,
            Generation = state.Generation,
            ObservedGeneration = state.ObservedGeneration,
            DesiredReplicas = state.Desired,
            UpdatedReplicas = state.Updated,
            ReadyReplicas = state.Ready,
            AvailableReplicas = state.Available,
            Message = state.Message,
            StuckPods = stuck,
            ConsumedVia = via,
        };

    /// <summary>How a pod spec reads a secret: volume, projected, env (valueFrom.secretKeyRef), envFrom.</summary>
    public static IReadOnlyList<string> SecretReferences(JsonObject? podSpec, string secretName)
    {
        var via = new List<string>();
        if (podSpec is null)
        {
            return via;
        }
        foreach (var v in (podSpec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (v["secret"]?["secretName"]?.GetValue<string>() == secretName)
            {
                via.Add("volume");
            }
            if ((v["projected"]?["sources"] as JsonArray ?? []).OfType<JsonObject>().Any(s => s["secret"]?["name"]?.GetValue<string>() == secretName))
            {
                via.Add("projected");
            }
        }
        var containers = new[] { "containers", "initContainers" }.SelectMany(k => (podSpec[k] as JsonArray ?? []).OfType<JsonObject>());
        foreach (var c in containers)
        {
            if ((c["env"] as JsonArray ?? []).OfType<JsonObject>().Any(e => e["valueFrom"]?["secretKeyRef"]?["name"]?.GetValue<string>() == secretName))
            {
                via.Add("env");
            }
            if ((c["envFrom"] as JsonArray ?? []).OfType<JsonObject>().Any(e => e["secretRef"]?["name"]?.GetValue<string>() == secretName))
            {
                via.Add("envFrom");
            }
        }
        return via.Distinct(StringComparer.Ordinal).ToList();
    }
}

/// <summary>A rollout's progress as kubectl's status viewers compute it.</summary>
public sealed record KubeRolloutState(bool Done, bool Failed, string Message, long Generation, long ObservedGeneration, int Desired, int Updated, int Ready, int Available);

/// <summary>
/// kubectl rollout status's rules (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), per kind. Kept as pure
/// functions so each rule is tested without a server.
/// </summary>
public static class KubeRolloutEvaluator
{
    public static KubeRolloutState Evaluate(KubeResourceType type, JsonObject obj)
    {
        var name = obj["metadata"]?["name"]?.GetValue<string>() ?? "?";
        var generation = Long(obj["metadata"]?["generation"]);
        var status = obj["status"] as JsonObject ?? new JsonObject();
        var observed = Long(status["observedGeneration"]);
        var spec = obj["spec"] as JsonObject ?? new JsonObject();
        if (type == KubeResourceType.DaemonSets)
        {
            var desiredDs = Int(status["desiredNumberScheduled"]);
            var updatedDs = Int(status["updatedNumberScheduled"]);
            var availableDs = Int(status["numberAvailable"]);
            var readyDs = Int(status["numberReady"]);
            string messageDs;
            var doneDs = false;
            if (generation > observed)
            {
                messageDs = "Waiting for daemon set spec update to be observed...";
            }
            else if (updatedDs < desiredDs)
            {
                messageDs = $"Waiting for daemon set \"{name}\" rollout to finish: {updatedDs} out of {desiredDs} new pods have been updated...";
            }
            else if (availableDs < desiredDs)
            {
                messageDs = $"Waiting for daemon set \"{name}\" rollout to finish: {availableDs} of {desiredDs} updated pods are available...";
            }
            else
            {
                messageDs = $"daemon set \"{name}\" successfully rolled out";
                doneDs = true;
            }
            return new KubeRolloutState(doneDs, false, messageDs, generation, observed, desiredDs, updatedDs, readyDs, availableDs);
        }

        var desired = spec["replicas"] is null ? 1 : Int(spec["replicas"]);
        var replicas = Int(status["replicas"]);
        var updated = Int(status["updatedReplicas"]);
        var ready = Int(status["readyReplicas"]);
        var available = Int(status["availableReplicas"]);
        if (type == KubeResourceType.StatefulSets)
        {
            if (observed == 0 || generation > observed)
            {
                return new(false, false, "Waiting for statefulset spec update to be observed...", generation, observed, desired, updated, ready, available);
            }
            if (ready < desired)
            {
                return new(false, false, $"Waiting for {desired - ready} pods to be ready...", generation, observed, desired, updated, ready, available);
            }
            if (spec["updateStrategy"]?["rollingUpdate"]?["partition"] is { } p)
            {
                var partition = Int(p);
                return updated < desired - partition
                    ? new(false, false, $"Waiting for partitioned roll out to finish: {updated} out of {desired - partition} new pods have been updated...", generation, observed, desired, updated, ready, available)
                    : new(true, false, $"partitioned roll out complete: {updated} new pods have been updated...", generation, observed, desired, updated, ready, available);
            }
            var updateRevision = status["updateRevision"]?.GetValue<string>();
            var currentRevision = status["currentRevision"]?.GetValue<string>();
            return updateRevision != currentRevision
                ? new(false, false, $"waiting for statefulset rolling update to complete {updated} pods at revision {updateRevision}...", generation, observed, desired, updated, ready, available)
                : new(true, false, $"statefulset rolling update complete {ready} pods at revision {currentRevision}...", generation, observed, desired, updated, ready, available);
        }

        // Deployment
        if (generation > observed)
        {
            return new(false, false, "Waiting for deployment spec update to be observed...", generation, observed, desired, updated, ready, available);
        }
        var progressing = (status["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "Progressing");
        if (progressing?["reason"]?.GetValue<string>() == "ProgressDeadlineExceeded")
        {
            return new(false, true, $"deployment \"{name}\" exceeded its progress deadline", generation, observed, desired, updated, ready, available);
        }
        if (updated < desired)
        {
            return new(false, false, $"Waiting for deployment \"{name}\" rollout to finish: {updated} out of {desired} new replicas have been updated...", generation, observed, desired, updated, ready, available);
        }
        if (replicas > updated)
        {
            return new(false, false, $"Waiting for deployment \"{name}\" rollout to finish: {replicas - updated} old replicas are pending termination...", generation, observed, desired, updated, ready, available);
        }
        if (available < updated)
        {
            return new(false, false, $"Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available...", generation, observed, desired, updated, ready, available);
        }
        return new(true, false, $"deployment \"{name}\" successfully rolled out", generation, observed, desired, updated, ready, available);
    }

    /// <summary>Why a pod is not ready (null when it is): a container's waiting/terminated reason, unschedulable, or not ready.</summary>
    public static KubePodProblem? Problem(JsonObject pod)
    {
        var name = pod["metadata"]?["name"]?.GetValue<string>() ?? "?";
        var status = pod["status"] as JsonObject ?? new JsonObject();
        var phase = status["phase"]?.GetValue<string>();
        var conditions = (status["conditions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var ready = conditions.FirstOrDefault(c => c["type"]?.GetValue<string>() == "Ready");
        if (ready?["status"]?.GetValue<string>() == "True" || phase == "Succeeded")
        {
            return null;
        }
        var statuses = new[] { "initContainerStatuses", "containerStatuses" }.SelectMany(k => (status[k] as JsonArray ?? []).OfType<JsonObject>());
        foreach (var cs in statuses)
        {
            var restarts = Int(cs["restartCount"]);
            if (cs["state"]?["waiting"] is JsonObject waiting && waiting["reason"]?.GetValue<string>() is { } wr && wr != "PodInitializing")
            {
                return new KubePodProblem { Name = name, Phase = phase, Container = cs["name"]?.GetValue<string>(), Reason = wr, Message = waiting["message"]?.GetValue<string>(), RestartCount = restarts };
            }
            if (cs["state"]?["terminated"] is JsonObject term && term["reason"]?.GetValue<string>() is { } tr && tr != "Completed")
            {
                return new KubePodProblem { Name = name, Phase = phase, Container = cs["name"]?.GetValue<string>(), Reason = tr, Message = term["message"]?.GetValue<string>(), RestartCount = restarts };
            }
            if (cs["ready"]?.GetValue<bool>() == false && cs["state"]?["running"] is not null)
            {
                return new KubePodProblem { Name = name, Phase = phase, Container = cs["name"]?.GetValue<string>(), Reason = "NotReady", Message = "running but failing its readiness probe", RestartCount = restarts };
            }
        }
        var scheduled = conditions.FirstOrDefault(c => c["type"]?.GetValue<string>() == "PodScheduled");
        if (scheduled?["status"]?.GetValue<string>() == "False")
        {
            return new KubePodProblem { Name = name, Phase = phase, Reason = scheduled["reason"]?.GetValue<string>() ?? "Unschedulable", Message = scheduled["message"]?.GetValue<string>() };
        }
        return new KubePodProblem { Name = name, Phase = phase, Reason = ready?["reason"]?.GetValue<string>() ?? "NotReady", Message = ready?["message"]?.GetValue<string>() };
    }

    private static long Long(JsonNode? n) => n is null ? 0 : n.GetValue<long>();

    private static int Int(JsonNode? n) => n is null ? 0 : n.GetValue<int>();
}

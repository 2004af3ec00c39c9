namespace Rotation.Core.Kubernetes;

/// <summary>A namespaced API resource Rotation uses, and how its REST paths are built.</summary>
public sealed record KubeResourceType(string Group, string Version, string Plural, string Kind)
{
    public static readonly KubeResourceType Secrets = new("", "v1", "secrets", "Secret");
    public static readonly KubeResourceType Pods = new("", "v1", "pods", "Pod");
    public static readonly KubeResourceType Deployments = new("apps", "v1", "deployments", "Deployment");
    public static readonly KubeResourceType StatefulSets = new("apps", "v1", "statefulsets", "StatefulSet");
    public static readonly KubeResourceType DaemonSets = new("apps", "v1", "daemonsets", "DaemonSet");

    public const string ExternalSecretsGroup = "external-secrets.io";

    public static KubeResourceType ExternalSecrets(string version) => new(ExternalSecretsGroup, version, "externalsecrets", "ExternalSecret");

    /// <summary>The workload kinds a rollout restart applies to, in the order kubectl lists them.</summary>
    public static readonly IReadOnlyList<KubeResourceType> Workloads = [Deployments, StatefulSets, DaemonSets];

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The lower-case singular kind used in <c>kind/name</c> workload references (deployment/backend).</summary>
    public string ShortKind => Kind.ToLowerInvariant();

    public string CollectionPath(string ns) =>
        $"{(Group.Length == 0 ? "/api/" + Version : $"/apis/{Group}/{Version}")}/namespaces/{Uri.EscapeDataString(ns)}/{Plural}";

    public string ObjectPath(string ns, string name) => $"{CollectionPath(ns)}/{Uri.EscapeDataString(name)}";

    /// <summary>Parses the kind part of <c>kind/name</c> as kubectl accepts it (deployment, deploy, deployments, sts, ds...).</summary>
    public static KubeResourceType? ParseWorkloadKind(string kind) => kind.ToLowerInvariant() switch
    {
        "deployment" or "deployments" or "deploy" or "deployment.apps" => Deployments,
        "statefulset" or "statefulsets" or "sts" or "statefulset.apps" => StatefulSets,
        "daemonset" or "daemonsets" or "ds" or "daemonset.apps" => DaemonSets,
        _ => null,
    };
}

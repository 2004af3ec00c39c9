using System.Management.Automation;
using Rotation.Core.Kubernetes;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// kubectl rollout restart for Deployments, StatefulSets and DaemonSets: by kind/name, by label selector, or -All
/// workloads that read a secret (-SecretName). Each workload restarts once per call, however often it is named or
/// piped. Emits KubeRollout objects that pipe into Wait-KubeRollout.
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "KubeWorkload", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByWorkload)]
[OutputType(typeof(KubeRollout))]
public sealed class RestartKubeWorkloadCommand : KubeCmdlet
{
    private const string ByWorkload = "Workload";
    private const string BySelector = "Selector";
    private const string BySecret = "Secret";

    private readonly KubeRestartSet _restarted = new();

    /// <summary>kind/name: deployment/backend, statefulset/db, daemonset/agent. Pipe several names to restart several.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByWorkload, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Workload { get; set; } = string.Empty;

    /// <summary>A label selector (app=backend,tier=api) over Deployments, StatefulSets and DaemonSets.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySelector)]
    [ValidateNotNullOrEmpty]
    public string Selector { get; set; } = string.Empty;

    /// <summary>Restart every workload whose pod template reads -SecretName (volume, projected, env, envFrom).</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySecret)]
    public SwitchParameter All { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = BySecret)]
    [ValidateNotNullOrEmpty]
    public string SecretName { get; set; } = string.Empty;

    protected override void ProcessRecord() => ForItem(() =>
    {
        var targets = Run(() => Kube.ResolveWorkloadsAsync(Context, Namespace,
            ParameterSetName == ByWorkload ? [Workload] : null,
            ParameterSetName == BySelector ? Selector : null,
            ParameterSetName == BySecret ? SecretName : null,
            CancellationToken));
        if (targets.Count == 0)
        {
            WriteWarning(ParameterSetName == BySecret
                ? $"No Deployment, StatefulSet or DaemonSet reads the secret '{SecretName}'; nothing was restarted."
                : $"No workload matches the selector '{Selector}'; nothing was restarted.");
        }
        foreach (var target in targets)
        {
            if (!_restarted.TryAdd(target))
            {
                WriteVerbose($"{target} was already restarted in this call; skipping.");
                continue;
            }
            if (ShouldProcess(target.ToString(), "Restart (kubectl rollout restart)"))
            {
                ForItem(() => WriteObject(Run(() => Kube.RestartAsync(target, CancellationToken))));
            }
        }
    });
}

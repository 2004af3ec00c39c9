using System.Management.Automation;
using Rotation.Core.Kubernetes;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Waits until a workload's rollout is complete (the rules of kubectl rollout status), or reports RolloutTimedOut /
/// RolloutFailed with the stuck pods and why. Takes Restart-KubeWorkload's output from the pipeline.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "KubeRollout")]
[OutputType(typeof(KubeRollout))]
public sealed class WaitKubeRolloutCommand : KubeCmdlet
{
    /// <summary>kind/name: deployment/backend.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Workload { get; set; } = string.Empty;

    /// <summary>How long to wait per workload (default 5 minutes).</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    protected override void ProcessRecord() => ForItem(() =>
    {
        var rollout = Run(() => Kube.WaitRolloutAsync(Context, Namespace, Workload, Timeout, CancellationToken));
        if (rollout.Status == KubeRolloutStatus.Complete)
        {
            WriteObject(rollout);
            return;
        }
        WriteRotationError(KubeOperations.RolloutError(rollout, Timeout));
    });
}

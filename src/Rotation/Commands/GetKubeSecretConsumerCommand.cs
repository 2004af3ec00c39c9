using System.Management.Automation;
using Rotation.Core.Kubernetes;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Lists the workloads and pods that read a secret, with each pod's start time against the secret's last change;
/// Stale pods still hold the old value. Pipe the stale ones into Restart-KubeWorkload.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KubeSecretConsumer")]
[OutputType(typeof(KubeSecretConsumer))]
public sealed class GetKubeSecretConsumerCommand : KubeCmdlet
{
    /// <summary>The secret's name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>Only the consumers whose pods started before the secret last changed.</summary>
    [Parameter]
    public SwitchParameter Stale { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        foreach (var consumer in Run(() => Kube.GetConsumersAsync(Context, Namespace, Name, CancellationToken)))
        {
            if (!Stale || consumer.Stale)
            {
                WriteObject(consumer);
            }
        }
    });
}

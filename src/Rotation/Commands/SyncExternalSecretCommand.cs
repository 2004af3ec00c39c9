using System.Management.Automation;
using Rotation.Core.Kubernetes;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Makes External Secrets Operator refresh one ExternalSecret (-Name) or all in a namespace (-All) now, by setting the
/// force-sync annotation; with -Wait, until status.refreshTime shows a refresh after the request.
/// </summary>
[Cmdlet(VerbsData.Sync, "ExternalSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByName)]
[OutputType(typeof(KubeExternalSecretSync))]
public sealed class SyncExternalSecretCommand : KubeCmdlet
{
    private const string ByName = "Name";
    private const string AllSet = "All";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>Every ExternalSecret in the namespace.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <summary>Wait until the operator reports a refresh after the request.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait waits per ExternalSecret (default 2 minutes).</summary>
    [Parameter]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    protected override void ProcessRecord() => ForItem(() =>
    {
        var targets = Run(() => Kube.ResolveExternalSecretsAsync(Context, Namespace, ParameterSetName == ByName ? Name : null, CancellationToken));
        if (targets.Count == 0)
        {
            WriteWarning($"No ExternalSecret exists in namespace '{Namespace ?? "(context namespace)"}'; nothing was synced.");
        }
        foreach (var target in targets)
        {
            if (ShouldProcess(target.ToString(), "Force a sync (annotation force-sync)"))
            {
                ForItem(() => WriteObject(Run(() => Kube.SyncExternalSecretAsync(target, Wait ? Timeout : null, CancellationToken))));
            }
        }
    });
}

using System.Management.Automation;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Promotes the Pending version to Current; the old Current becomes Previous. Writes the new Current.</summary>
[Cmdlet(VerbsLifecycle.Complete, "RotationSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RotationSecret))]
public sealed class CompleteRotationSecretCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = string.Empty;

    /// <summary>The pending version expected (Set-RotationSecret -PassThru's VersionId binds by property name):
    /// another version is refused, and a retry after success returns it again.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? VersionId { get; set; }

    [Parameter]
    public string[]? Endpoint { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (!ShouldProcess(Uri, VersionId is null ? "Promote the pending version to current" : $"Promote the pending version {VersionId} to current"))
        {
            return;
        }
        var operations = new SecretOperations(Services, Endpoint, Uri);
        WriteObject(Run(() => operations.CompleteAsync(Uri, VersionId, CancellationToken)));
    });
}

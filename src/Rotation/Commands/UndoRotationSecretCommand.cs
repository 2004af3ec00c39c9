using System.Management.Automation;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Makes the Previous version Current again (the Current one becomes Previous). Writes the new Current.</summary>
[Cmdlet(VerbsCommon.Undo, "RotationSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RotationSecret))]
public sealed class UndoRotationSecretCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = string.Empty;

    [Parameter]
    public string[]? Endpoint { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (!ShouldProcess(Uri, "Make the previous version current again"))
        {
            return;
        }
        var operations = new SecretOperations(Services, Endpoint, Uri);
        WriteObject(Run(() => operations.UndoAsync(Uri, CancellationToken)));
    });
}

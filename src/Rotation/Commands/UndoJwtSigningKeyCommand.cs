using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Rolls back the last switch: the previous key signs again while it is still Retiring; the newer key waits as Next.</summary>
[Cmdlet(VerbsCommon.Undo, "JwtSigningKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(JwtKeyRing))]
public sealed class UndoJwtSigningKeyCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (!ShouldProcess(Uri, "Roll back the last JWT signing key switch"))
        {
            return;
        }
        var manager = JwtKeyRingManager.Open(Services, Uri);
        WriteObject(Run(() => manager.UndoSwitchAsync(CancellationToken)));
    });
}

using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Emergency: removes a compromised key at once (every token it signed stops validating) and, if it signed, makes a new Active key.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "JwtKeyRevocation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(JwtKeyRevocation))]
public sealed class InvokeJwtKeyRevocationCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string Kid { get; set; } = string.Empty;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (!ForceConfirmation.ShouldProcess(this, Force, Uri, $"Revoke the JWT key '{Kid}' now: every token it signed stops validating"))
        {
            return;
        }
        var manager = JwtKeyRingManager.Open(Services, Uri);
        WriteObject(Run(() => manager.RevokeAsync(Kid, CancellationToken)));
    });
}

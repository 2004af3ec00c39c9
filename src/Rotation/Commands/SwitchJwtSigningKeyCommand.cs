using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>The Next key becomes Active and the old Active key becomes Retiring, once the Next key has been published long enough.</summary>
[Cmdlet(VerbsCommon.Switch, "JwtSigningKey", SupportsShouldProcess = true)]
[OutputType(typeof(JwtKeyRing))]
public sealed class SwitchJwtSigningKeyCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    /// <summary>How long the Next key must have been published; default 01:00:00 (verifier caches).</summary>
    [Parameter]
    public TimeSpan? PublishLead { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (!ShouldProcess(Uri, "Activate the Next JWT signing key; the Active key becomes Retiring"))
        {
            return;
        }
        var manager = JwtKeyRingManager.Open(Services, Uri);
        WriteObject(Run(() => manager.SwitchAsync(PublishLead, CancellationToken)));
    });
}

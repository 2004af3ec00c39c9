using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Reads a JWT key ring: its keys and their states, never their material.</summary>
[Cmdlet(VerbsCommon.Get, "JwtKeyRing")]
[OutputType(typeof(JwtKeyRing))]
public sealed class GetJwtKeyRingCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    protected override void ProcessRecord() => ForItem(() =>
    {
        var manager = JwtKeyRingManager.Open(Services, Uri);
        WriteObject(Run(() => manager.GetAsync(CancellationToken)));
    });
}

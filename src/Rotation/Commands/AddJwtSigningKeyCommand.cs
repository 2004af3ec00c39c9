using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Adds a key to a ring as Next: published for verification, not signing yet.</summary>
[Cmdlet(VerbsCommon.Add, "JwtSigningKey", SupportsShouldProcess = true)]
[OutputType(typeof(JwtKey))]
public sealed class AddJwtSigningKeyCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public string Uri { get; set; } = string.Empty;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public JwtKey Key { get; set; } = null!;

    /// <summary>Only for the first key of an empty ring: it signs at once.</summary>
    [Parameter]
    public SwitchParameter Activate { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (!ShouldProcess(Uri, $"Add the {Key.Algorithm} key '{Key.Kid}' as {(Activate ? "Active" : "Next")}"))
        {
            return;
        }
        var manager = JwtKeyRingManager.Open(Services, Uri);
        WriteObject(Run(() => manager.AddAsync(Key, Activate, CancellationToken)));
    });
}

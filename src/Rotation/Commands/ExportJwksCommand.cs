using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>The ring's public keys as a JWK Set (RFC 7517): never a private or symmetric key.</summary>
[Cmdlet(VerbsData.Export, "Jwks")]
[OutputType(typeof(JwksDocument))]
public sealed class ExportJwksCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    /// <summary>One line of JSON instead of indented.</summary>
    [Parameter]
    public SwitchParameter Compress { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var manager = JwtKeyRingManager.Open(Services, Uri);
        var ring = Run(() => manager.GetAsync(CancellationToken));
        WriteObject(Jwks.Export(ring, indented: !Compress));
    });
}

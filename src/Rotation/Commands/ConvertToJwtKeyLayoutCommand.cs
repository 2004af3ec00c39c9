using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Renders a ring in the shape an application reads; pipe it into Set-RotationSecret -Shape Json, or write PEM files with -Path.</summary>
[Cmdlet(VerbsData.ConvertTo, "JwtKeyLayout", SupportsShouldProcess = true)]
[OutputType(typeof(JwtKeyLayout))]
public sealed class ConvertToJwtKeyLayoutCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1)]
    public JwtKeyLayoutKind Layout { get; set; }

    /// <summary>CurrentNewDate: JWT_SECRET_ROTATION_DATE is the Next key's publication plus this lead (default 01:00:00).</summary>
    [Parameter]
    public TimeSpan? PublishLead { get; set; }

    /// <summary>PemFiles: the folder to write the key files to.</summary>
    [Parameter]
    public string? Path { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var manager = JwtKeyRingManager.Open(Services, Uri);
        var ring = Run(() => manager.GetAsync(CancellationToken));
        var layout = JwtKeyLayouts.Render(ring, Layout, PublishLead);
        if (Path is not null)
        {
            var folder = GetUnresolvedProviderPathFromPSPath(Path);
            if (!ShouldProcess(folder, $"Write the {Layout} layout of '{Uri}' ({layout.Fields.Count} files)"))
            {
                return;
            }
            layout = JwtKeyLayouts.WritePemFiles(layout, folder);
        }
        WriteObject(layout);
    });
}

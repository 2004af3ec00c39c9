using System.Management.Automation;
using Rotation.Core.Audit;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Writes audit records to a JSON or CSV file.</summary>
[Cmdlet(VerbsData.Export, "RotationAuditLog", SupportsShouldProcess = true)]
[OutputType(typeof(AuditExportResult))]
public sealed class ExportRotationAuditLogCommand : AuditQueryCommandBase
{
    /// <summary>The file to write.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Json or Csv; default from the destination's extension (.csv is Csv, anything else Json).</summary>
    [Parameter]
    public AuditExportFormat? Format { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RunId { get; set; }

    /// <summary>The audit log to read; default $env:ROTATION_AUDIT_LOG, else the state folder's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    /// <summary>Replace the destination if it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing() => ForItem(() =>
    {
        var destination = GetUnresolvedProviderPathFromPSPath(Path);
        var records = ReadAudit(LogPath, RunId);
        if (!ShouldProcess(destination, $"Export {records.Count} audit records as {Format ?? AuditLogExport.FormatFor(destination)}"))
        {
            return;
        }
        var result = AuditLogExport.Export(records, destination, Format, Force);
        if (PassThru)
        {
            WriteObject(result);
        }
    });
}

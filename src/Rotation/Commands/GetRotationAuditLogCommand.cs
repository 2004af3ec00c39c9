using System.Management.Automation;
using Rotation.Core.Audit;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Reads the audit log, filtered by time, target, run and event.</summary>
[Cmdlet(VerbsCommon.Get, "RotationAuditLog")]
[OutputType(typeof(RotationAuditRecord))]
public sealed class GetRotationAuditLogCommand : AuditQueryCommandBase
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? RunId { get; set; }

    /// <summary>The audit log to read; default $env:ROTATION_AUDIT_LOG, else the state folder's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord() => ForItem(() => WriteObject(ReadAudit(Path, RunId), enumerateCollection: true));
}

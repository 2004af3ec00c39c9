using System.Management.Automation;
using Rotation.Core.Audit;
using Rotation.Core.Runs;

namespace Rotation.Infrastructure;

/// <summary>The filters Get-RotationAuditLog and Export-RotationAuditLog share.</summary>
public abstract class AuditQueryCommandBase : RotationCmdlet
{
    [Parameter]
    public DateTime? Since { get; set; }

    [Parameter]
    public DateTime? Until { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Target { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Event { get; set; }

    [Parameter]
    public SwitchParameter SkipMalformed { get; set; }

    /// <summary>Reads the log at <paramref name="path"/> (default: $env:ROTATION_AUDIT_LOG, else the state folder's).</summary>
    protected IReadOnlyList<RotationAuditRecord> ReadAudit(string? path, string? runId)
    {
        var source = path is null ? RotationPaths.AuditLogPath(Environment.GetEnvironmentVariable) : GetUnresolvedProviderPathFromPSPath(path);
        return [.. AuditLogReader.Read(source, AuditFilters.Create(Since, Until, Target, runId, Event), SkipMalformed, Services.Log)];
    }
}

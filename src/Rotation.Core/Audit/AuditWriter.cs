using Rotation.Core.Runs;

namespace Rotation.Core.Audit;

/// <summary>
/// Writes an audit record stamped with the services' clock and actor, so every state-changing operation (a run's
/// steps, or a single cmdlet such as Set-RotationSecret) records the same way. Throws AuditWriteFailed.
/// </summary>
public static class AuditWriter
{
    public static void WriteAudit(this RotationServices services, string eventName, string target, bool success = true,
        AuditReason reason = AuditReason.Routine, string? credentialType = null, string? runId = null, string? step = null,
        string? fingerprint = null, string? error = null, bool rollbackRequired = false, double? downtimeSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Audit.Write(new RotationAuditRecord
        {
            Timestamp = services.Clock.GetUtcNow(),
            Event = eventName,
            CredentialType = credentialType,
            Target = target,
            PerformedBy = services.PerformedBy,
            Reason = reason,
            Success = success,
            DowntimeSeconds = downtimeSeconds,
            RollbackRequired = rollbackRequired,
            RunId = runId,
            Step = step,
            Fingerprint = fingerprint,
            Error = error,
        });
    }
}

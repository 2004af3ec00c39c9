using System.Text.Json.Serialization;

namespace Rotation.Core.Audit;

public enum AuditReason
{
    Routine,
    Emergency,
    Rollback,
}

/// <summary>
/// One JSON line per state change (DESIGN.md section 4). Never a value: <see cref="Fingerprint"/> identifies one.
/// JSON names are snake_case as the design lists them; the PowerShell view shows the PascalCase properties.
/// </summary>
public sealed class RotationAuditRecord
{
    [JsonPropertyName("timestamp")] public DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("event")] public required string Event { get; init; }
    [JsonPropertyName("credential_type")] public string? CredentialType { get; init; }
    [JsonPropertyName("target")] public required string Target { get; init; }
    [JsonPropertyName("performed_by")] public string? PerformedBy { get; init; }
    [JsonPropertyName("reason")] [JsonConverter(typeof(AuditReasonJsonConverter))] public AuditReason Reason { get; init; }
    [JsonPropertyName("success")] public bool Success { get; init; }
    [JsonPropertyName("downtime_seconds")] public double? DowntimeSeconds { get; init; }
    [JsonPropertyName("rollback_required")] public bool RollbackRequired { get; init; }
    [JsonPropertyName("run_id")] public string? RunId { get; init; }
    [JsonPropertyName("step")] public string? Step { get; init; }
    [JsonPropertyName("fingerprint")] public string? Fingerprint { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}

/// <summary>The reason as DESIGN.md section 4 spells it in the log: routine, emergency, rollback (read case-insensitively).</summary>
public sealed class AuditReasonJsonConverter() : JsonStringEnumConverter<AuditReason>(System.Text.Json.JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false);

/// <summary>
/// Where audit records go. Writing must be durable (flushed per record) and safe with concurrent writers; a failure
/// throws RotationException(AuditWriteFailed): a rotation without evidence did not happen.
/// </summary>
public interface IAuditSink
{
    void Write(RotationAuditRecord record);
}

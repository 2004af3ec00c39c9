namespace Rotation.Core.Runs;

public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
    Undone,
    UndoFailed,

    /// <summary>Undo-Rotation is compensating the run (or crashed while doing so: run Undo-Rotation again).</summary>
    Undoing,
}

public enum StepStatus
{
    NotStarted,
    Started,
    Done,
    Failed,
    Compensated,
}

/// <summary>
/// A journaled rotation run (DESIGN.md section 3): ordered named steps, each recorded before (intent) and after
/// (outcome and the references needed to undo it: user names, version ids, kids; never a value).
/// </summary>
public sealed class RotationRun
{
    public required string RunId { get; init; }

    /// <summary>The runbook kind (DbUserRotation, RedisAclRotation, ...) that knows how to rebuild the steps.</summary>
    public required string Kind { get; init; }

    /// <summary>What is being rotated, for people (a user@server, a secret URI).</summary>
    public required string Target { get; init; }

    public RunStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? PerformedBy { get; init; }

    public Audit.AuditReason Reason { get; init; }

    /// <summary>Non-secret inputs needed to rebuild the steps on resume (server, user, store URI, strategy...).</summary>
    public Dictionary<string, string> Parameters { get; init; } = new(StringComparer.Ordinal);

    public List<RunStepRecord> Steps { get; init; } = [];

    public string? Error { get; set; }

    public RunStepRecord? Step(string name) => Steps.FirstOrDefault(s => s.Name == name);

    /// <summary>The first step not yet done, where a resume continues.</summary>
    public string? NextStep => Steps.FirstOrDefault(s => s.Status != StepStatus.Done)?.Name;
}

public sealed class RunStepRecord
{
    public required string Name { get; init; }
    public StepStatus Status { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public int Attempts { get; set; }

    /// <summary>References to undo or resume the step (version ids, user names, kids). Never values.</summary>
    public Dictionary<string, string> Refs { get; init; } = new(StringComparer.Ordinal);

    public string? Error { get; set; }
}

using Rotation.Core.Audit;

namespace Rotation.Core.Runs;

/// <summary>Which runs Get-RotationRun returns. Every filter is optional; set ones must all match.</summary>
public sealed class RunQuery
{
    /// <summary>Run ids; with wildcards (* ? [a-z]) they select from the list, without them each is loaded (RunNotFound if missing).</summary>
    public IReadOnlyList<string>? RunId { get; init; }

    public IReadOnlyList<RunStatus>? Status { get; init; }

    /// <summary>Runbook kinds, with wildcards, case-insensitive.</summary>
    public IReadOnlyList<string>? Kind { get; init; }

    public bool Matches(RotationRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return (Status is not { Count: > 0 } || Status.Contains(run.Status))
            && (Kind is not { Count: > 0 } || Kind.Any(k => Wildcard.IsMatch(run.Kind, k)))
            && (RunId is not { Count: > 0 } || RunId.Any(id => Wildcard.HasWildcards(id) ? Wildcard.IsMatch(run.RunId, id) : run.RunId == id));
    }

    /// <summary>True when every run id is exact, so the runs are loaded one by one instead of listing the journal.</summary>
    public bool IsExactIds => RunId is { Count: > 0 } && !RunId.Any(Wildcard.HasWildcards);

    /// <summary>
    /// The matching runs, oldest first. With exact ids, a missing run throws RunNotFound; callers that want to go
    /// on with the next id call <see cref="Load"/> per id instead.
    /// </summary>
    public IEnumerable<RotationRun> Find(IRunJournal journal)
    {
        ArgumentNullException.ThrowIfNull(journal);
        return IsExactIds ? RunId!.Select(id => Load(journal, id)).Where(r => r is not null).Select(r => r!) : journal.List().Where(Matches);
    }

    /// <summary>One exact id: the run when it matches the other filters, else null. Throws RunNotFound.</summary>
    public RotationRun? Load(IRunJournal journal, string runId)
    {
        ArgumentNullException.ThrowIfNull(journal);
        var run = journal.Load(runId);
        return Matches(run) ? run : null;
    }
}

using Rotation.Core.Errors;

namespace Rotation.Core.Runs;

/// <summary>
/// Runbooks by kind, so a resume or undo in any process rebuilds a run's steps from its journaled parameters.
/// Each runbook registers in <see cref="CreateDefault"/> (one line each), like SecretStoreRegistry.
/// </summary>
public sealed class RunbookRegistry
{
    private readonly Dictionary<string, IRunbook> _runbooks = new(StringComparer.Ordinal);

    public static RunbookRegistry CreateDefault()
    {
        var r = new RunbookRegistry();
        // Runbooks register here (one line each).
        r.Register(new Postgres.DbUserRotationRunbook());
        r.Register(new Redis.RedisAclRunbook());
        return r;
    }

    public RunbookRegistry Register(IRunbook runbook)
    {
        ArgumentNullException.ThrowIfNull(runbook);
        _runbooks[runbook.Kind] = runbook;
        return this;
    }

    public IReadOnlyCollection<string> Kinds => _runbooks.Keys;

    public IRunbook Get(string kind, string runId) =>
        _runbooks.TryGetValue(kind, out var runbook)
            ? runbook
            : throw Errors.Errors.NotFound(RotationErrorIds.RunbookNotFound, runId,
                $"Run {runId} is of kind '{kind}', which this version of Rotation does not know (known: {string.Join(", ", _runbooks.Keys.Order())}). " +
                "Resume or undo it with the Rotation version that started it.");
}

using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;

namespace Rotation.Core.Redis;

/// <summary>What Invoke-RedisAclRotation asks for.</summary>
public sealed class RedisAclRotationRequest
{
    public required IReadOnlyList<RedisEndpoint> Endpoints { get; init; }

    /// <summary>The ACL user to rotate; ignored by RequirePass (always 'default').</summary>
    public required string User { get; init; }

    public required RotationCredential AdminCredential { get; init; }

    public RedisAclStrategy Strategy { get; init; } = RedisAclStrategy.DualPassword;

    /// <summary>A store URI: the new credential is written there as Pending first, and made Current after verification.</summary>
    public string? Uri { get; init; }

    /// <summary>ACL SAVE / CONFIG REWRITE after the change (RequirePass: the optional CONFIG REWRITE).</summary>
    public bool Persist { get; init; } = true;

    public int PasswordLength { get; init; } = 32;

    public RedisConnectionOptions Options { get; init; } = RedisConnectionOptions.Default;

    public AuditReason Reason { get; init; } = AuditReason.Routine;
}

/// <summary>Runs a Redis ACL rotation as a journaled run and shapes its result.</summary>
public static class RedisAclRotator
{
    public static async Task<RedisAclRotation> RotateAsync(RedisAclRotationRequest request, RotationServices services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        if (request.Strategy != RedisAclStrategy.RequirePass && string.IsNullOrWhiteSpace(request.User))
        {
            throw Errors.Errors.InvalidArgument("User", "Name the ACL user to rotate with -User.");
        }
        if (request.Strategy == RedisAclStrategy.RequirePass && request.Uri is null)
        {
            // DESIGN.md 3: a crash must leave the old credential working or the new one in a store. requirepass has
            // one password only, so after CONFIG SET the old one is gone: the new one must already be in a store.
            throw Errors.Errors.InvalidArgument("Uri",
                "-Strategy RequirePass replaces the default user's only password, so a crash after the change would leave no working password anywhere. " +
                "Pass -Uri with a store: the new password is written there as Pending before the server accepts it.");
        }
        if (request.Strategy == RedisAclStrategy.RequirePass)
        {
            services.Log.Warning("RequirePass replaces the default user's password: clients that still use the old password fail to connect until they are restarted with the new one. Prefer -Strategy DualPassword.");
        }
        var parameters = RedisAclRunbook.Parameters(request);
        var inputs = new Dictionary<string, object> { [RedisAclRunbook.AdminCredentialInput] = request.AdminCredential };
        var target = $"{parameters[RedisAclRunbook.P.User]}@{parameters[RedisAclRunbook.P.Endpoints]}";
        // This call's own runbook instance keeps the run's in-memory state (the new password to return, the old
        // requirepass hashes to roll back); the engine resolves undo steps through these services, so it uses it too.
        var runbook = new RedisAclRunbook(keepState: true);
        var callServices = WithRunbook(services, runbook);
        var engine = new RunEngine(callServices);
        RotationRun run;
        try
        {
            run = await engine.StartAsync(runbook, target, parameters, inputs, request.Reason, cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException ex)
        {
            throw await RollBackAsync(engine, callServices, inputs, ex, cancellationToken).ConfigureAwait(false);
        }
        var rotation = Result(run, runbook.PasswordOf(run.RunId)!, services);
        services.Log.Verbose($"Rotated {rotation.PreviousUser} -> {rotation.NewUser} on {string.Join(", ", rotation.Endpoint)} ({rotation.Strategy}, run {run.RunId}, persistence {rotation.Persistence}).");
        return rotation;
    }

    private static RotationServices WithRunbook(RotationServices s, RedisAclRunbook runbook)
    {
        var registry = RunbookRegistry.CreateDefault().Register(runbook);
        return new RotationServices
        {
            Stores = s.Stores,
            StoreContext = s.StoreContext,
            Journal = s.Journal,
            Audit = s.Audit,
            Runbooks = registry,
            Log = s.Log,
            Clock = s.Clock,
            PerformedBy = s.PerformedBy,
        };
    }

    /// <summary>
    /// A failure after a node changed is rolled back at once (nothing is left half-changed); the error the caller
    /// sees is the original one, saying that it was rolled back, or what to do when the rollback failed too.
    /// </summary>
    private static async Task<RotationException> RollBackAsync(RunEngine engine, RotationServices services, IReadOnlyDictionary<string, object> inputs,
        RotationException error, CancellationToken ct)
    {
        if (error.Data["RunId"] is not string runId)
        {
            return error;
        }
        var run = services.Journal.Load(runId);
        // Preflight changes nothing; from StorePending on, the undo releases the store lease and reverts the nodes.
        if (!run.Steps.Any(s => s.Status is StepStatus.Done or StepStatus.Failed or StepStatus.Started && s.Name != "Preflight"))
        {
            return error;
        }
        try
        {
            await engine.UndoAsync(runId, inputs, ct).ConfigureAwait(false);
            return Wrap(error, runId, $"{error.Message} The rotation (run {runId}) was rolled back: the old credential is unchanged.");
        }
        catch (RotationException undo)
        {
            return Wrap(error, runId, $"{error.Message} Rolling back run {runId} failed as well ({undo.Message}); finish with 'Undo-Rotation -RunId {runId}'.");
        }
    }

    private static RotationException Wrap(RotationException error, string runId, string message)
    {
        var wrapped = new RotationException(error.ErrorId, error.Category, error.TargetName, message, error);
        wrapped.Data["RunId"] = runId;
        return wrapped;
    }

    private static RedisAclRotation Result(RotationRun run, string password, RotationServices services)
    {
        var pre = run.Step("Preflight")!.Refs;
        var newUser = pre[RedisAclRunbook.Refs.NewUser];
        var retired = pre.GetValueOrDefault(RedisAclRunbook.Refs.RetiredFingerprints) ?? string.Empty;
        return new RedisAclRotation
        {
            Endpoint = RedisAclRunbook.EndpointsOf(run).Select(e => e.ToString()).ToArray(),
            User = run.Parameters[RedisAclRunbook.P.User],
            PreviousUser = pre[RedisAclRunbook.Refs.PreviousUser],
            NewUser = newUser,
            Strategy = RedisAclRunbook.StrategyOf(run),
            Credential = RotationCredential.FromPlainText(newUser, password),
            SecretUri = run.Parameters.GetValueOrDefault(RedisAclRunbook.P.Uri),
            RunId = run.RunId,
            Persistence = Enum.Parse<RedisPersistence>(run.Step("Persist")!.Refs[RedisAclRunbook.Refs.Persistence]),
            RotatedAt = run.Step("VerifyLogin")?.EndedAt ?? services.Clock.GetUtcNow(),
            RetiredFingerprints = retired.Split(',', StringSplitOptions.RemoveEmptyEntries),
        };
    }
}

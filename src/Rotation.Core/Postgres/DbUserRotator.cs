using System.Diagnostics;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Postgres;

/// <summary>Invoke-DbUserRotation's request.</summary>
public sealed class DbRotationRequest
{
    public required DbConnectionOptions Connection { get; init; }

    /// <summary>The login being rotated (app, app_v3, app_a).</summary>
    public required string User { get; init; }

    public DbRotationStrategy Strategy { get; init; } = DbRotationStrategy.NewUser;

    /// <summary>NewUser: the name to create instead of &lt;base&gt;_v&lt;N+1&gt;. AlternatingUsers: the partner login.</summary>
    public string? NewUser { get; init; }

    /// <summary>The store the credential is staged in; default file://&lt;state&gt;/secrets.json#postgres/&lt;server&gt;/&lt;db&gt;/&lt;base user&gt;.</summary>
    public string? SecretUri { get; init; }

    public Audit.AuditReason Reason { get; init; } = Audit.AuditReason.Routine;
}

/// <summary>The PostgreSQL operations behind the cmdlets.</summary>
public static class DbUserRotator
{
    /// <summary>The default store address of a login's credential, in the state folder.</summary>
    public static string DefaultSecretUri(DbRotationRequest request, Func<string, string?> env)
    {
        var state = RotationPaths.StateDirectory(env);
        var c = request.Connection;
        return $"file://{Path.Combine(state, "secrets.json")}#postgres/{c.Host}:{c.EffectivePort}/{c.EffectiveDatabase}/{DbUserRotationRunbook.BaseName(request.User, request.Strategy)}";
    }

    /// <summary>The journaled parameters of a rotation run (no secret among them).</summary>
    public static Dictionary<string, string> RunParameters(DbRotationRequest request, Func<string, string?> env)
    {
        PgQuote.ValidateIdentifier(request.User, "user name");
        if (request.NewUser is not null)
        {
            PgQuote.ValidateIdentifier(request.NewUser, "new user name");
        }
        var p = request.Connection.ToParameters();
        p[DbUserRotationRunbook.UserParameter] = request.User;
        p[DbUserRotationRunbook.StrategyParameter] = request.Strategy.ToString();
        p[DbUserRotationRunbook.SecretUriParameter] = request.SecretUri ?? DefaultSecretUri(request, env);
        p[Runs.RunParameters.CredentialType] = "postgresql-password";
        if (request.NewUser is not null)
        {
            p[DbUserRotationRunbook.NewUserParameter] = request.NewUser;
        }
        return p;
    }

    public static Dictionary<string, object> RunInputs(DbConnectionOptions connection)
    {
        var inputs = new Dictionary<string, object>(StringComparer.Ordinal);
        // A connection string's password is stripped from the journal, so it travels as the admin input instead.
        var admin = connection.AdminCredential ?? connection.ConnectionStringLogin();
        if (admin is not null)
        {
            inputs[DbUserRotationRunbook.AdminCredentialInput] = admin;
        }
        return inputs;
    }

    /// <summary>
    /// Invoke-DbUserRotation: starts the journaled run. A failure before the new credential was promoted is
    /// compensated at once (a created login dropped, the Pending version cancelled), so a failed call leaves nothing
    /// changed; after promotion the run is left for Resume-Rotation, because the new login may already be in use.
    /// </summary>
    public static async Task<DbUserRotation> InvokeAsync(DbRotationRequest request, RotationServices services, CancellationToken ct)
    {
        var parameters = RunParameters(request, services.StoreContext.GetEnvironmentVariable);
        var inputs = RunInputs(request.Connection);
        var engine = new RunEngine(services);
        var target = $"{request.User}@{request.Connection.TargetName}";
        RotationRun run;
        try
        {
            run = await engine.StartAsync(new DbUserRotationRunbook(), target, parameters, inputs, request.Reason, ct).ConfigureAwait(false);
        }
        catch (RotationException ex) when (ex.Data[RunEngine.RunIdDataKey] is string runId)
        {
            var failed = services.Journal.Load(runId);
            if (failed.Step(DbUserRotationRunbook.PromoteStep)?.Status == StepStatus.Done)
            {
                throw;
            }
            try
            {
                await engine.UndoAsync(runId, inputs, CancellationToken.None).ConfigureAwait(false);
            }
            catch (RotationException undo)
            {
                services.Log.Warning($"Rolling back run {runId} after its failure failed too: {undo.Message} Finish it with 'Undo-Rotation -RunId {runId}'.");
                throw;
            }
            services.Log.Verbose($"Run {runId} failed before the new credential was published and was rolled back.");
            throw;
        }
        return await ResultAsync(run, services, ct).ConfigureAwait(false);
    }

    /// <summary>The output of a finished run: the users from its refs, the credential from the store's Current.</summary>
    public static async Task<DbUserRotation> ResultAsync(RotationRun run, RotationServices services, CancellationToken ct)
    {
        var inspect = run.Step(DbUserRotationRunbook.InspectStep)!.Refs;
        var store = services.OpenStore(run.Parameters[DbUserRotationRunbook.SecretUriParameter]);
        var current = await store.GetAsync(SecretStage.Current, ct).ConfigureAwait(false);
        var options = DbConnectionOptions.FromParameters(run.Parameters, null);
        return new DbUserRotation
        {
            Server = options.Host,
            Port = options.EffectivePort,
            Database = options.EffectiveDatabase ?? string.Empty,
            PreviousUser = inspect[DbUserRotationRunbook.PreviousUserRef],
            NewUser = inspect[DbUserRotationRunbook.TargetUserRef],
            User = run.Parameters[DbUserRotationRunbook.UserParameter],
            Strategy = Enum.Parse<DbRotationStrategy>(run.Parameters[DbUserRotationRunbook.StrategyParameter]),
            Credential = DbCredentialShape.Read(current.Value, store.Uri.Original),
            SecretUri = store.Uri.Original,
            RunId = run.RunId,
            OwnedObjects = inspect.GetValueOrDefault(DbUserRotationRunbook.OwnedObjectsRef)?.Split('\n') ?? [],
        };
    }

    /// <summary>Test-DbCredential: a real unpooled login.</summary>
    public static async Task<DbCredentialTestResult> TestCredentialAsync(DbConnectionOptions connection, RotationCredential login, bool expectFailure, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var (outcome, error) = await PgCatalog.TryLoginAsync(connection, login, ct).ConfigureAwait(false);
        return new DbCredentialTestResult
        {
            Server = connection.Host,
            Port = connection.EffectivePort,
            Database = connection.EffectiveDatabase,
            User = login.UserName,
            Reason = outcome,
            Passed = expectFailure ? outcome == DbLoginOutcome.AuthenticationFailed : outcome == DbLoginOutcome.Succeeded,
            ErrorId = error?.ErrorId,
            Message = error?.Message,
            Elapsed = watch.Elapsed,
        };
    }

    /// <summary>Get-DbUserSession: the user's sessions, or every login's with a null user.</summary>
    public static async Task<IReadOnlyList<DbUserSession>> GetSessionsAsync(DbConnectionOptions connection, string user, Func<string, ISecretStore> openStore, CancellationToken ct)
    {
        PgQuote.ValidateIdentifier(user, "user name");
        var admin = await connection.ResolveAdminAsync(openStore, ct).ConfigureAwait(false);
        await using var c = await PgCatalog.OpenAsync(connection, admin, pooling: false, ct).ConfigureAwait(false);
        if (!await PgCatalog.RoleExistsAsync(c, user, ct).ConfigureAwait(false))
        {
            throw PgCatalog.UserNotFound(user, c);
        }
        return await PgCatalog.SessionsAsync(c, user, ct).ConfigureAwait(false);
    }

    /// <summary>Remove-RetiredDbUser, first half: which retired roles of the family exist (each then goes through ShouldProcess).</summary>
    public static async Task<IReadOnlyList<(string User, DbRotationMarker Marker)>> FindRetiredAsync(DbRetireRequest request, Func<string, ISecretStore> openStore, CancellationToken ct)
    {
        var admin = await request.Connection.ResolveAdminAsync(openStore, ct).ConfigureAwait(false);
        await using var c = await PgCatalog.OpenAsync(request.Connection, admin, pooling: false, ct).ConfigureAwait(false);
        return await DbRetirement.FindRetiredAsync(c, request.Connection.TargetName, request.User, ct).ConfigureAwait(false);
    }

    /// <summary>Remove-RetiredDbUser, second half: retire one role.</summary>
    public static async Task<DbRetiredUser> RemoveRetiredAsync(DbRetireRequest request, string role, DbRotationMarker marker, RotationServices services, CancellationToken ct)
    {
        var admin = await request.Connection.ResolveAdminAsync(services.OpenStore, ct).ConfigureAwait(false);
        await using var c = await PgCatalog.OpenAsync(request.Connection, admin, pooling: false, ct).ConfigureAwait(false);
        await PgCatalog.RequireRoleAdminAsync(c, request.Connection.TargetName, ct).ConfigureAwait(false);
        return await DbRetirement.RetireAsync(c, request, role, marker, services, ct).ConfigureAwait(false);
    }

    internal static RotationException NotDone(RotationRun run) =>
        new(RotationErrorIds.RunStepFailed, RotationErrorCategory.InvalidOperation, run.Target, $"Run {run.RunId} did not finish: {run.Error}");
}

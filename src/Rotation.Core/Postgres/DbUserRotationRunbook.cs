using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Postgres;

/// <summary>
/// The journaled PostgreSQL rotation (DESIGN.md section 3). Steps, in order:
/// <list type="number">
/// <item>inspect: admin rights, which login is in use (the store's Current, else -User), the login to set; changes nothing.</item>
/// <item>stage-secret: the new credential goes to the store as Pending before the database knows it.</item>
/// <item>apply-database: CREATE ROLE with the copied rights in one transaction (NewUser), or ALTER ROLE ... PASSWORD.</item>
/// <item>verify: a real unpooled login with the pending credential, and (NewUser) equal privilege snapshots.</item>
/// <item>promote: Pending becomes Current in the store.</item>
/// <item>retire-previous: marks the previous login retired (its role comment) for Remove-RetiredDbUser.</item>
/// </list>
/// Inputs: <c>AdminCredential</c> (RotationCredential), unless the run has an AdminSecretUri or a connection string with a password.
/// </summary>
public sealed partial class DbUserRotationRunbook : IRunbook
{
    public const string RunKind = "DbUserRotation";
    public const string AdminCredentialInput = RunInputs.AdminCredential;

    internal const string UserParameter = "User";
    internal const string NewUserParameter = "NewUser";
    internal const string StrategyParameter = "Strategy";
    internal const string SecretUriParameter = "SecretUri";

    internal const string PreviousUserRef = "PreviousUser";
    internal const string TargetUserRef = "NewUser";
    internal const string OwnedObjectsRef = "OwnedObjects";
    internal const string PendingVersionRef = "PendingVersionId";
    internal const string FingerprintRef = RunRefs.Fingerprint;
    internal const string CreatedUserRef = "CreatedUser";
    internal const string RetiredUserRef = "RetiredUser";

    public const string InspectStep = "inspect";
    public const string StageStep = "stage-secret";
    public const string ApplyStep = "apply-database";
    public const string VerifyStep = "verify";
    public const string PromoteStep = "promote";
    public const string RetireStep = "retire-previous";

    public string Kind => RunKind;

    public IReadOnlyList<IRunStep> CreateSteps(RotationRun run) =>
    [
        new Step(InspectStep, InspectAsync, (_, _) => Task.CompletedTask),
        new Step(StageStep, StageAsync, CancelStagedAsync),
        new Step(ApplyStep, ApplyAsync, UnapplyAsync),
        new Step(VerifyStep, VerifyAsync, (_, _) => Task.CompletedTask),
        new Step(PromoteStep, PromoteAsync, UnpromoteAsync),
        new Step(RetireStep, RetireAsync, UnretireAsync),
    ];

    /// <summary>The family name of a login: app_v3 → app, app_a → app (AlternatingUsers), anything else itself.</summary>
    public static string BaseName(string user, DbRotationStrategy strategy)
    {
        if (strategy == DbRotationStrategy.AlternatingUsers && (user.EndsWith("_a", StringComparison.Ordinal) || user.EndsWith("_b", StringComparison.Ordinal)))
        {
            return user[..^2];
        }
        var m = VersionSuffix().Match(user);
        return m.Success ? user[..m.Index] : user;
    }

    /// <summary>The next free versioned name: highest existing &lt;base&gt;_vN plus one (a bare base counts as v1).</summary>
    public static string NextVersionName(string current, IEnumerable<string> existing)
    {
        var baseName = BaseName(current, DbRotationStrategy.NewUser);
        var max = 1;
        foreach (var name in existing.Append(current))
        {
            if (name.StartsWith(baseName + "_v", StringComparison.Ordinal)
                && int.TryParse(name.AsSpan(baseName.Length + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                max = Math.Max(max, n);
            }
        }
        return baseName + "_v" + (max + 1).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The other login of an alternating pair: app_a ↔ app_b.</summary>
    public static string Partner(string user) =>
        user.EndsWith("_a", StringComparison.Ordinal) ? user[..^2] + "_b"
        : user.EndsWith("_b", StringComparison.Ordinal) ? user[..^2] + "_a"
        : throw Errors.Errors.InvalidArgument(user,
            $"AlternatingUsers rotates a pair of logins named <base>_a and <base>_b; '{user}' is neither. Pass -User {user}_a (and create {user}_b with the same rights).");

    [GeneratedRegex(@"_v[0-9]+$")]
    private static partial Regex VersionSuffix();

    // ---- steps ----

    private static async Task InspectAsync(DbStepScope s, CancellationToken ct)
    {
        if (s.Context.Step.Refs.ContainsKey(TargetUserRef))
        {
            return;
        }
        await using var c = await s.OpenAdminAsync(ct).ConfigureAwait(false);
        await PgCatalog.RequireRoleAdminAsync(c, s.Target, ct).ConfigureAwait(false);

        var store = s.Store;
        var description = await store.DescribeAsync(ct).ConfigureAwait(false);
        if (description.HasPending && description.PendingRunId != s.Context.Run.RunId)
        {
            throw StoreErrors.InProgress(store.Uri.Original, description.PendingRunId);
        }
        var inUse = s.User;
        if (description.Versions.Any(v => v.Stages.Contains(SecretStage.Current)))
        {
            var current = await store.GetAsync(SecretStage.Current, ct).ConfigureAwait(false);
            inUse = DbCredentialShape.Read(current.Value, store.Uri.Original).UserName;
            if (BaseName(inUse, s.Strategy) != BaseName(s.User, s.Strategy))
            {
                throw Errors.Errors.InvalidArgument(store.Uri.Original,
                    $"The store '{store.Uri.Original}' holds a login for '{inUse}', which is not of the family of -User '{s.User}'. " +
                    "Pass the -SecretUri that belongs to this login.");
            }
        }
        else if (s.Strategy == DbRotationStrategy.AlternatingUsers && !inUse.EndsWith("_a", StringComparison.Ordinal) && !inUse.EndsWith("_b", StringComparison.Ordinal))
        {
            inUse += "_a";
        }
        PgQuote.ValidateIdentifier(inUse, "user name");
        if (!await PgCatalog.CanLoginAsync(c, inUse, ct).ConfigureAwait(false) && s.Strategy != DbRotationStrategy.AlternatingUsers)
        {
            throw new RotationException(RotationErrorIds.DbUserNotLogin, RotationErrorCategory.InvalidArgument, inUse,
                $"The role '{inUse}' on {s.Target} cannot log in (NOLOGIN): it is a group role, not a login to rotate. Rotate the login that applications use.");
        }

        string target;
        switch (s.Strategy)
        {
            case DbRotationStrategy.NewUser:
                target = s.Context.OptionalParameter(NewUserParameter)
                    ?? NextVersionName(inUse, await PgCatalog.RolesLikeAsync(c, BaseName(inUse, s.Strategy) + "_v", ct).ConfigureAwait(false));
                PgQuote.ValidateIdentifier(target, "new user name");
                if (await PgCatalog.RoleExistsAsync(c, target, ct).ConfigureAwait(false))
                {
                    throw new RotationException(RotationErrorIds.DbUserExists, RotationErrorCategory.ResourceExists, target,
                        $"The role '{target}' already exists on {s.Target}. Pass another -NewUser, or retire it first with Remove-RetiredDbUser. Nothing was changed.");
                }
                var snapshot = await DbPrivilegeSnapshot.ReadAsync(c, inUse, ct).ConfigureAwait(false);
                if (snapshot.OwnedObjects.Count > 0)
                {
                    s.Log.Warning($"'{inUse}' owns {snapshot.OwnedObjects.Count} object(s) ({string.Join("; ", snapshot.OwnedObjects.Take(5))}). " +
                        $"Ownership is not copied to '{target}': move them to a group role both logins are members of " +
                        $"(ALTER ... OWNER TO <group>, or Remove-RetiredDbUser -ReassignTo <group>).");
                    s.Context.SetRef(OwnedObjectsRef, string.Join("\n", snapshot.OwnedObjects));
                }
                break;
            case DbRotationStrategy.AlternatingUsers:
                target = s.Context.OptionalParameter(NewUserParameter) ?? Partner(inUse);
                PgQuote.ValidateIdentifier(target, "user name");
                if (!await PgCatalog.RoleExistsAsync(c, target, ct).ConfigureAwait(false))
                {
                    throw PgCatalog.UserNotFound(target, c);
                }
                break;
            default:
                target = inUse;
                break;
        }
        s.Context.SetRef(PreviousUserRef, inUse);
        s.Context.SetRef(TargetUserRef, target);
    }

    private static async Task StageAsync(DbStepScope s, CancellationToken ct)
    {
        var store = s.Store;
        var description = await store.DescribeAsync(ct).ConfigureAwait(false);
        if (description.HasPending && description.PendingRunId == s.Context.Run.RunId)
        {
            // A resumed run keeps the password it staged: the store, not the journal, is where it lives.
            var pending = await store.GetAsync(SecretStage.Pending, ct).ConfigureAwait(false);
            s.Context.SetRef(PendingVersionRef, pending.VersionId);
            return;
        }
        var password = SecretGenerator.NewPassword();
        var value = DbCredentialShape.Write(s.TargetUser, password);
        var written = await store.PutAsync(value, SecretStage.Pending, new SecretWriteOptions
        {
            RunId = s.Context.Run.RunId,
            ClientRequestToken = s.Context.IdempotencyToken(),
            Description = $"PostgreSQL login {s.TargetUser} for {s.Target} (run {s.Context.Run.RunId})",
        }, ct).ConfigureAwait(false);
        s.Context.SetRef(PendingVersionRef, written.VersionId);
        s.Context.SetRef(FingerprintRef, Fingerprint.Of(password));
    }

    private static Task CancelStagedAsync(DbStepScope s, CancellationToken ct) => s.Store.CancelPendingAsync(s.Context.Run.RunId, ct);

    private static async Task ApplyAsync(DbStepScope s, CancellationToken ct)
    {
        var login = await s.PendingCredentialAsync(ct).ConfigureAwait(false);
        var password = SecureStrings.ToPlainText(login.Password);
        var marker = new DbRotationMarker("active", s.Now, s.Context.Run.RunId, null, s.Strategy.ToString());
        await using var c = await s.OpenAdminAsync(ct).ConfigureAwait(false);
        var role = PgQuote.Identifier(s.TargetUser);
        try
        {
            if (s.Strategy == DbRotationStrategy.NewUser)
            {
                var existing = await PgCatalog.MarkerAsync(c, s.TargetUser, ct).ConfigureAwait(false);
                if (await PgCatalog.RoleExistsAsync(c, s.TargetUser, ct).ConfigureAwait(false))
                {
                    if (existing?.RunId != s.Context.Run.RunId)
                    {
                        throw new RotationException(RotationErrorIds.DbUserExists, RotationErrorCategory.ResourceExists, s.TargetUser,
                            $"The role '{s.TargetUser}' appeared on {s.Target} after this run inspected it, and this run did not create it. " +
                            $"Undo the run (Undo-Rotation -RunId {s.Context.Run.RunId}) and rotate again.");
                    }
                    // Created by this run before a crash: the transaction committed whole, so only the password is re-asserted.
                    await PgCatalog.ExecuteAsync(c, $"ALTER ROLE {role} WITH PASSWORD {PgScram.PasswordLiteral(password)}", ct).ConfigureAwait(false);
                    return;
                }
                s.Context.SetRef(CreatedUserRef, s.TargetUser);
                var snapshot = await DbPrivilegeSnapshot.ReadAsync(c, s.PreviousUser, ct).ConfigureAwait(false);
                var verifier = PgScram.PasswordLiteral(password);
                await PgCatalog.InTransactionAsync(c, async tx =>
                {
                    await PgCatalog.ExecuteAsync(c, $"CREATE ROLE {role} WITH {snapshot.CreateRoleOptions()} PASSWORD {verifier}", ct, tx).ConfigureAwait(false);
                    foreach (var sql in snapshot.GrantStatements(s.TargetUser))
                    {
                        await PgCatalog.ExecuteAsync(c, sql, ct, tx).ConfigureAwait(false);
                    }
                    await PgCatalog.ExecuteAsync(c, $"COMMENT ON ROLE {role} IS {PgQuote.Literal(PgCatalog.WithMarker(null, marker)!)}", ct, tx).ConfigureAwait(false);
                }, ct).ConfigureAwait(false);
                s.Log.Verbose($"Created '{s.TargetUser}' on {s.Target} with the rights of '{s.PreviousUser}' ({snapshot.Items.Count} items).");
            }
            else
            {
                // LOGIN again: Remove-RetiredDbUser disables the idle login of an alternating pair.
                await PgCatalog.ExecuteAsync(c, $"ALTER ROLE {role} WITH LOGIN PASSWORD {PgScram.PasswordLiteral(password)}", ct).ConfigureAwait(false);
                await PgCatalog.SetMarkerAsync(c, s.TargetUser, marker, ct).ConfigureAwait(false);
                s.Log.Verbose($"Set a new password for '{s.TargetUser}' on {s.Target}.");
            }
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PgErrors.Translate(ex, s.Target, s.TargetUser);
        }
    }

    private static async Task UnapplyAsync(DbStepScope s, CancellationToken ct)
    {
        if (!s.Context.Step.Refs.ContainsKey(CreatedUserRef) && s.Strategy == DbRotationStrategy.NewUser)
        {
            return;
        }
        await using var c = await s.OpenAdminAsync(ct).ConfigureAwait(false);
        try
        {
            if (s.Strategy == DbRotationStrategy.NewUser)
            {
                var user = s.Context.Step.Refs[CreatedUserRef];
                if (!await PgCatalog.RoleExistsAsync(c, user, ct).ConfigureAwait(false))
                {
                    return;
                }
                if ((await PgCatalog.MarkerAsync(c, user, ct).ConfigureAwait(false))?.RunId != s.Context.Run.RunId)
                {
                    s.Log.Warning($"'{user}' on {s.Target} was not created by run {s.Context.Run.RunId}; leaving it in place.");
                    return;
                }
                await DbRetirement.RequireNoSessionsAsync(c, s.Target, user, ct).ConfigureAwait(false);
                var snapshot = await DbPrivilegeSnapshot.ReadAsync(c, user, ct).ConfigureAwait(false);
                DbRetirement.RequireOwnsNothing(s.Target, user, snapshot.OwnedObjects);
                await DbRetirement.DropRoleAsync(c, user, null, ct).ConfigureAwait(false);
                s.Log.Verbose($"Dropped '{user}', created by run {s.Context.Run.RunId}, on {s.Target}.");
                return;
            }
            if (s.Strategy == DbRotationStrategy.AlterPassword)
            {
                // The old password is still in the store (Current, or Previous once promote was undone): put it back.
                var pendingFingerprint = s.Context.Run.Step(StageStep)?.Refs.GetValueOrDefault(FingerprintRef);
                foreach (var stage in new[] { SecretStage.Current, SecretStage.Previous })
                {
                    RotationCredential old;
                    try
                    {
                        old = DbCredentialShape.Read((await s.Store.GetAsync(stage, ct).ConfigureAwait(false)).Value, s.Store.Uri.Original);
                    }
                    catch (RotationException)
                    {
                        continue;
                    }
                    if (old.UserName == s.TargetUser && old.PasswordFingerprint != pendingFingerprint)
                    {
                        await PgCatalog.ExecuteAsync(c, $"ALTER ROLE {PgQuote.Identifier(s.TargetUser)} WITH PASSWORD {PgScram.PasswordLiteral(SecureStrings.ToPlainText(old.Password))}", ct).ConfigureAwait(false);
                        s.Log.Verbose($"Restored the previous password of '{s.TargetUser}' from the store's {stage} version.");
                        return;
                    }
                }
                s.Log.Warning($"The previous password of '{s.TargetUser}' is not in the store, so it cannot be restored; '{s.TargetUser}' keeps the new one.");
            }
            // AlternatingUsers: the reset login was idle (not the store's Current), so it keeps its new password.
            await PgCatalog.SetMarkerAsync(c, s.TargetUser, null, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PgErrors.Translate(ex, s.Target, s.TargetUser);
        }
    }

    private static async Task VerifyAsync(DbStepScope s, CancellationToken ct)
    {
        var login = await s.PendingCredentialAsync(ct).ConfigureAwait(false);
        var (outcome, error) = await PgCatalog.TryLoginAsync(s.Options, login, ct).ConfigureAwait(false);
        if (outcome != DbLoginOutcome.Succeeded)
        {
            throw new RotationException(error!.ErrorId, error.Category, s.TargetUser,
                $"The new login '{s.TargetUser}' on {s.Target} does not work ({outcome}): {error.Message} It is not published (the store holds it as Pending only).", error);
        }
        if (s.Strategy == DbRotationStrategy.AlterPassword)
        {
            return;
        }
        await using var c = await s.OpenAdminAsync(ct).ConfigureAwait(false);
        var before = await DbPrivilegeSnapshot.ReadAsync(c, s.PreviousUser, ct).ConfigureAwait(false);
        var after = await DbPrivilegeSnapshot.ReadAsync(c, s.TargetUser, ct).ConfigureAwait(false);
        var diff = before.Diff(after);
        if (s.Strategy == DbRotationStrategy.AlternatingUsers)
        {
            // The pair is set up by hand, so a difference is the operator's to fix, not a reason to stop the switch.
            if (diff.Count > 0)
            {
                s.Log.Warning($"'{s.TargetUser}' and '{s.PreviousUser}' on {s.Target} do not have the same rights: {string.Join("; ", diff.Take(10))}. " +
                    "Applications switch to it now; give both logins the same grants (a shared group role).");
            }
            return;
        }
        if (diff.Count > 0)
        {
            throw new RotationException(RotationErrorIds.DbPrivilegeMismatch, RotationErrorCategory.InvalidResult, s.TargetUser,
                $"'{s.TargetUser}' does not have exactly the rights of '{s.PreviousUser}' on {s.Target} ('-' only the old login has, '+' only the new one):\n" +
                string.Join("\n", diff.Take(40)) + (diff.Count > 40 ? $"\n... and {diff.Count - 40} more" : string.Empty) +
                "\nNothing is published.");
        }
    }

    private static async Task PromoteAsync(DbStepScope s, CancellationToken ct)
    {
        var version = s.Context.Run.Step(StageStep)?.Refs.GetValueOrDefault(PendingVersionRef);
        var promoted = await s.Store.CompleteAsync(version, ct).ConfigureAwait(false);
        s.Context.SetRef("CurrentVersionId", promoted.VersionId);
    }

    private static async Task UnpromoteAsync(DbStepScope s, CancellationToken ct)
    {
        var version = s.Context.Run.Step(StageStep)?.Refs.GetValueOrDefault(PendingVersionRef);
        var description = await s.Store.DescribeAsync(ct).ConfigureAwait(false);
        if (description.Versions.Any(v => v.VersionId == version && v.Stages.Contains(SecretStage.Current))
            && description.Versions.Any(v => v.Stages.Contains(SecretStage.Previous)))
        {
            await s.Store.UndoAsync(ct).ConfigureAwait(false);
        }
    }

    private static async Task RetireAsync(DbStepScope s, CancellationToken ct)
    {
        if (s.PreviousUser == s.TargetUser)
        {
            return;
        }
        await using var c = await s.OpenAdminAsync(ct).ConfigureAwait(false);
        try
        {
            await PgCatalog.SetMarkerAsync(c, s.PreviousUser,
                new DbRotationMarker("retired", s.Now, s.Context.Run.RunId, s.TargetUser, s.Strategy.ToString()), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PgErrors.Translate(ex, s.Target, s.PreviousUser);
        }
        s.Context.SetRef(RetiredUserRef, s.PreviousUser);
    }

    private static async Task UnretireAsync(DbStepScope s, CancellationToken ct)
    {
        if (!s.Context.Step.Refs.TryGetValue(RetiredUserRef, out var user))
        {
            return;
        }
        await using var c = await s.OpenAdminAsync(ct).ConfigureAwait(false);
        if ((await PgCatalog.MarkerAsync(c, user, ct).ConfigureAwait(false))?.RunId == s.Context.Run.RunId)
        {
            await PgCatalog.SetMarkerAsync(c, user, null, ct).ConfigureAwait(false);
        }
    }

    private sealed class Step(string name, Func<DbStepScope, CancellationToken, Task> execute, Func<DbStepScope, CancellationToken, Task> compensate) : IRunStep
    {
        public string Name => name;

        public Task ExecuteAsync(RunStepContext context, CancellationToken cancellationToken) => execute(new DbStepScope(context), cancellationToken);

        public Task CompensateAsync(RunStepContext context, CancellationToken cancellationToken) => compensate(new DbStepScope(context), cancellationToken);
    }
}

/// <summary>What every step derives from the run: target, admin login, store, the users chosen by inspect.</summary>
internal sealed class DbStepScope(RunStepContext context)
{
    private ISecretStore? _store;

    public RunStepContext Context => context;

    public DbConnectionOptions Options { get; } = DbConnectionOptions.FromParameters(context.Run.Parameters,
        context.Inputs.TryGetValue(DbUserRotationRunbook.AdminCredentialInput, out var a) ? a as RotationCredential : null);

    public string Target => Options.TargetName;

    public string User => context.Parameter(DbUserRotationRunbook.UserParameter);

    public DbRotationStrategy Strategy => Enum.Parse<DbRotationStrategy>(context.Parameter(DbUserRotationRunbook.StrategyParameter));

    public ISecretStore Store => _store ??= context.Services.OpenStore(context.Parameter(DbUserRotationRunbook.SecretUriParameter));

    public IRotationLog Log => context.Services.Log;

    public DateTimeOffset Now => context.Services.Clock.GetUtcNow();

    public string PreviousUser => InspectRef(DbUserRotationRunbook.PreviousUserRef);

    public string TargetUser => InspectRef(DbUserRotationRunbook.TargetUserRef);

    public async Task<NpgsqlConnection> OpenAdminAsync(CancellationToken ct)
    {
        var admin = await Options.ResolveAdminAsync(context.Services.OpenStore, ct).ConfigureAwait(false);
        return await PgCatalog.OpenAsync(Options, admin, pooling: true, ct).ConfigureAwait(false);
    }

    /// <summary>The staged credential, read back from the store (never from the journal).</summary>
    public async Task<RotationCredential> PendingCredentialAsync(CancellationToken ct)
    {
        var pending = await Store.GetAsync(SecretStage.Pending, ct).ConfigureAwait(false);
        var login = DbCredentialShape.Read(pending.Value, Store.Uri.Original);
        if (login.UserName != TargetUser)
        {
            throw new RotationException(RotationErrorIds.RotationInProgress, RotationErrorCategory.ResourceBusy, Store.Uri.Original,
                $"The pending credential in '{Store.Uri.Original}' is for '{login.UserName}', not '{TargetUser}': another rotation changed it. Undo run {context.Run.RunId}.");
        }
        return login;
    }

    private string InspectRef(string name) =>
        (context.Step.Name == DbUserRotationRunbook.InspectStep ? context.Step : context.Run.Step(DbUserRotationRunbook.InspectStep))?.Refs.GetValueOrDefault(name)
        ?? throw new InvalidOperationException($"Run {context.Run.RunId} has no '{name}' from its inspect step.");
}

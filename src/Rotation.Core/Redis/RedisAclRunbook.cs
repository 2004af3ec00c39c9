using System.Globalization;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Redis;

/// <summary>
/// The Redis ACL rotation as journaled steps (DESIGN.md section 3):
/// Preflight → StorePending → ApplyAcl → VerifyLogin → Persist → PublishCurrent.
/// The new password reaches the store as Pending before any node accepts it, and becomes Current only after a real
/// login with it succeeded on every node. The journal keeps user names, node lists and fingerprints, never a
/// password or a full password hash. Input: "AdminCredential" (RotationCredential), supplied again on resume/undo.
/// </summary>
public sealed class RedisAclRunbook : IRunbook
{
    public const string RunKind = "RedisAclRotation";
    public const string AdminCredentialInput = RunInputs.AdminCredential;

    internal static class P
    {
        public const string Endpoints = "Endpoints";
        public const string User = "User";
        public const string Strategy = "Strategy";
        public const string Uri = "Uri";
        public const string Persist = "Persist";
        public const string Tls = "Tls";
        public const string CaFile = "CaFile";
        public const string ServerName = "ServerName";
        public const string SkipCertificateValidation = "SkipCertificateValidation";
        public const string ConnectTimeoutMs = "ConnectTimeoutMs";
        public const string ReadTimeoutMs = "ReadTimeoutMs";
        public const string PasswordLength = "PasswordLength";
    }

    internal static class Refs
    {
        public const string PreviousUser = "PreviousUser";
        public const string NewUser = "NewUser";
        public const string RetiredFingerprints = "RetiredFingerprints";
        public const string Persistence = "Persistence";
        public const string AppliedNodes = "AppliedNodes";
        public const string VersionId = "VersionId";
        public const string Fingerprint = RunRefs.Fingerprint;
    }

    // Only the instance a rotation call creates for itself keeps the run's in-memory state (the new password, to
    // return it; the old requirepass hashes, to roll back), so a shared registry instance never accumulates secrets.
    private readonly Dictionary<string, RedisRunState>? _states;
    private readonly object _gate = new();

    public RedisAclRunbook()
    {
    }

    internal RedisAclRunbook(bool keepState) => _states = keepState ? new(StringComparer.Ordinal) : null;

    public string Kind => RunKind;

    /// <summary>The new password of a run this instance executed (keepState instances only).</summary>
    internal string? PasswordOf(string runId) => _states?.GetValueOrDefault(runId)?.Password;

    public IReadOnlyList<IRunStep> CreateSteps(RotationRun run)
    {
        RedisRunState state;
        lock (_gate)
        {
            state = _states?.GetValueOrDefault(run.RunId) ?? new RedisRunState();
            _states?.TryAdd(run.RunId, state);
        }
        return
        [
            new Step("Preflight", state, PreflightAsync, null),
            new Step("StorePending", state, StorePendingAsync, CancelPendingAsync),
            new Step("ApplyAcl", state, ApplyAclAsync, RevertAclAsync),
            new Step("VerifyLogin", state, VerifyLoginAsync, null),
            new Step("Persist", state, PersistAsync, null),
            new Step("PublishCurrent", state, PublishCurrentAsync, UnpublishAsync),
        ];
    }

    /// <summary>Non-secret run parameters for a request.</summary>
    public static Dictionary<string, string> Parameters(RedisAclRotationRequest r)
    {
        var p = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RunParameters.CredentialType] = "redis-acl",
            [P.Endpoints] = string.Join(",", r.Endpoints.Select(e => e.ToString())),
            [P.User] = r.Strategy == RedisAclStrategy.RequirePass ? "default" : r.User,
            [P.Strategy] = r.Strategy.ToString(),
            [P.Persist] = r.Persist ? "true" : "false",
            [P.Tls] = r.Options.Tls ? "true" : "false",
            [P.SkipCertificateValidation] = r.Options.SkipCertificateValidation ? "true" : "false",
            [P.ConnectTimeoutMs] = ((long)r.Options.ConnectTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            [P.ReadTimeoutMs] = ((long)r.Options.ReadTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            [P.PasswordLength] = r.PasswordLength.ToString(CultureInfo.InvariantCulture),
        };
        if (r.Uri is not null) { p[P.Uri] = r.Uri; }
        if (r.Options.CaFile is not null) { p[P.CaFile] = r.Options.CaFile; }
        if (r.Options.ServerName is not null) { p[P.ServerName] = r.Options.ServerName; }
        return p;
    }

    internal static RedisConnectionOptions Options(RotationRun run) => new()
    {
        Tls = Flag(run, P.Tls),
        SkipCertificateValidation = Flag(run, P.SkipCertificateValidation),
        CaFile = run.Parameters.GetValueOrDefault(P.CaFile),
        ServerName = run.Parameters.GetValueOrDefault(P.ServerName),
        ConnectTimeout = TimeSpan.FromMilliseconds(long.Parse(run.Parameters.GetValueOrDefault(P.ConnectTimeoutMs) ?? "5000", CultureInfo.InvariantCulture)),
        ReadTimeout = TimeSpan.FromMilliseconds(long.Parse(run.Parameters.GetValueOrDefault(P.ReadTimeoutMs) ?? "10000", CultureInfo.InvariantCulture)),
    };

    private static bool Flag(RotationRun run, string name) => run.Parameters.GetValueOrDefault(name) == "true";

    internal static RedisAclStrategy StrategyOf(RotationRun run) => Enum.Parse<RedisAclStrategy>(run.Parameters[P.Strategy]);

    internal static IReadOnlyList<RedisEndpoint> EndpointsOf(RotationRun run) => RedisEndpoint.ParseMany([run.Parameters[P.Endpoints]]);

    private static string Ref(RotationRun run, string step, string name) =>
        run.Step(step)?.Refs.GetValueOrDefault(name) ?? throw new RotationException(RotationErrorIds.RunNotResumable, RotationErrorCategory.InvalidData, run.RunId,
            $"Run {run.RunId} has no '{name}' recorded by step '{step}'; its journal is incomplete.");

    private static Task<RedisNodeSet> OpenAsync(RunStepContext c, CancellationToken ct) =>
        RedisNodeSet.OpenAsync(EndpointsOf(c.Run), c.Input<RotationCredential>(AdminCredentialInput), Options(c.Run), ct);

    // ---- Preflight: every node reachable with the admin login, the user present and alike everywhere.

    private static async Task PreflightAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        var strategy = StrategyOf(c.Run);
        var user = c.Parameter(P.User);
        await using var nodes = await OpenAsync(c, ct).ConfigureAwait(false);
        var users = new List<(RedisConnection Node, RedisAclUser? User)>();
        foreach (var node in nodes.Nodes)
        {
            users.Add((node, await node.AclGetUserAsync(user, ct).ConfigureAwait(false)));
        }
        var missing = users.Where(u => u.User is null).Select(u => u.Node.Endpoint.ToString()).ToList();
        if (missing.Count > 0)
        {
            throw Errors.Errors.NotFound(RotationErrorIds.RedisUserNotFound, user,
                $"The ACL user '{user}' does not exist on {string.Join(", ", missing)}; nothing was changed. Check -User, or create the user on every node first.");
        }
        var first = users[0];
        foreach (var other in users.Skip(1).Where(u => u.User!.RuleSignature() != first.User!.RuleSignature()))
        {
            throw new RotationException(RotationErrorIds.RedisNodesDiverged, RotationErrorCategory.InvalidData, user,
                $"The ACL user '{user}' has different rules on {first.Node.Endpoint} and {other.Node.Endpoint} ({RedisAclUser.Describe(first.User!, other.User!)}); " +
                "nothing was changed. Make the nodes agree (ACL LOAD or the same ACL SETUSER on each), then rotate again.");
        }

        if (strategy == RedisAclStrategy.DualPassword && first.User!.Flags.Contains("nopass"))
        {
            // Redis clears nopass when a password is added: every client that logs in without one would fail at once.
            throw Errors.Errors.InvalidArgument(user,
                $"The ACL user '{user}' has 'nopass': adding a password turns that off, so clients that log in without a password would fail at once; nothing was changed. " +
                "Use -Strategy NewUser (the new user gets a password, the old one keeps working until retired).");
        }
        var newUser = strategy == RedisAclStrategy.NewUser ? await NextUserNameAsync(nodes, user, ct).ConfigureAwait(false) : user;
        var retired = users.SelectMany(u => u.User!.PasswordHashes).Select(RedisPasswordHash.FingerprintOfHash).Distinct().Order(StringComparer.Ordinal);
        var persistence = new List<string>();
        foreach (var node in nodes.Nodes)
        {
            persistence.Add($"{node.Endpoint}={await PersistenceModeAsync(node, ct).ConfigureAwait(false)}");
        }
        if (strategy == RedisAclStrategy.RequirePass && !first.User!.Enabled)
        {
            c.Services.Log.Warning($"The default user is off on {first.Node.Endpoint}: requirepass changes its password, but no client can log in as 'default' until it is turned on.");
        }
        c.SetRef(Refs.PreviousUser, user);
        c.SetRef(Refs.NewUser, newUser);
        c.SetRef(Refs.RetiredFingerprints, string.Join(",", retired));
        c.SetRef(Refs.Persistence, string.Join(",", persistence));
    }

    /// <summary>base_v(N+1): N is the highest version of the base name on any node (backend → backend_v2).</summary>
    private static async Task<string> NextUserNameAsync(RedisNodeSet nodes, string user, CancellationToken ct)
    {
        var (baseName, version) = RedisUserNames.Split(user);
        var highest = version;
        foreach (var node in nodes.Nodes)
        {
            foreach (var line in await node.AclListAsync(ct).ConfigureAwait(false))
            {
                var name = line.Split(' ', 3) is [_, var n, ..] ? n : string.Empty;
                var (b, v) = RedisUserNames.Split(name);
                if (b == baseName && v > highest)
                {
                    highest = v;
                }
            }
        }
        return $"{baseName}_v{(highest + 1).ToString(CultureInfo.InvariantCulture)}";
    }

    internal static async Task<RedisPersistence> PersistenceModeAsync(RedisConnection node, CancellationToken ct)
    {
        var aclFile = (await node.ConfigGetAsync("aclfile", ct).ConfigureAwait(false)).GetValueOrDefault("aclfile");
        if (!string.IsNullOrEmpty(aclFile))
        {
            return RedisPersistence.AclSave;
        }
        var configFile = (await node.InfoAsync("server", ct).ConfigureAwait(false)).GetValueOrDefault("config_file");
        return string.IsNullOrEmpty(configFile) ? RedisPersistence.None : RedisPersistence.ConfigRewrite;
    }

    // ---- StorePending: the new password exists somewhere durable before any node accepts it.

    private static async Task StorePendingAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        var uri = c.OptionalParameter(P.Uri);
        var newUser = Ref(c.Run, "Preflight", Refs.NewUser);
        if (uri is null)
        {
            s.Password ??= NewPassword(c.Run);
            c.SetRef(Refs.Fingerprint, Fingerprint.Of(s.Password));
            return;
        }
        var store = c.Services.OpenStore(uri);
        var held = await PendingOfThisRunAsync(c, store, ct).ConfigureAwait(false);
        if (held is not null)
        {
            s.Password = held;
        }
        else
        {
            s.Password ??= NewPassword(c.Run);
            var written = await store.PutAsync(StoreValue(store.Uri, newUser, s.Password), SecretStage.Pending, new SecretWriteOptions
            {
                RunId = c.Run.RunId,
                ClientRequestToken = c.IdempotencyToken(),
                Description = $"Redis ACL rotation {c.Run.RunId} of {newUser}",
            }, ct).ConfigureAwait(false);
            c.SetRef(Refs.VersionId, written.VersionId);
        }
        c.SetRef(Refs.Fingerprint, Fingerprint.Of(s.Password));
    }

    private static async Task CancelPendingAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        if (c.OptionalParameter(P.Uri) is { } uri)
        {
            await c.Services.OpenStore(uri).CancelPendingAsync(c.Run.RunId, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A user-and-password document, or only the password when the URI addresses one field.</summary>
    internal static SecretValue StoreValue(SecretStoreUri uri, string user, string password) => uri.Field is not null
        ? SecretValue.FromText(password)
        : SecretValue.FromFields(new Dictionary<string, string> { ["username"] = user, ["password"] = password });

    private static string PasswordOf(SecretStoreUri uri, SecretValue value) => uri.Field is not null || !value.IsFields
        ? value.GetField(null, uri.Original)
        : value.GetField("password", uri.Original);

    private static async Task<string?> PendingOfThisRunAsync(RunStepContext c, ISecretStore store, CancellationToken ct)
    {
        var d = await store.DescribeAsync(ct).ConfigureAwait(false);
        if (!d.HasPending || d.PendingRunId != c.Run.RunId)
        {
            return null;
        }
        return PasswordOf(store.Uri, (await store.GetAsync(SecretStage.Pending, ct).ConfigureAwait(false)).Value);
    }

    private static string NewPassword(RotationRun run) =>
        SecretGenerator.NewPassword(int.Parse(run.Parameters.GetValueOrDefault(P.PasswordLength) ?? "32", CultureInfo.InvariantCulture));

    /// <summary>The new password: in memory, or after a crash read back from the store where StorePending put it.</summary>
    private static async Task<string> PasswordAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        if (s.Password is not null)
        {
            return s.Password;
        }
        if (c.OptionalParameter(P.Uri) is { } uri)
        {
            var store = c.Services.OpenStore(uri);
            var fp = Ref(c.Run, "StorePending", Refs.Fingerprint);
            var pending = await PendingOfThisRunAsync(c, store, ct).ConfigureAwait(false);
            string? found = pending;
            if (found is null)
            {
                var current = PasswordOf(store.Uri, (await store.GetAsync(SecretStage.Current, ct).ConfigureAwait(false)).Value);
                found = Fingerprint.Of(current) == fp ? current : null;
            }
            if (found is not null && Fingerprint.Of(found) == fp)
            {
                return s.Password = found;
            }
        }
        throw new RotationException(RotationErrorIds.RunNotResumable, RotationErrorCategory.InvalidOperation, c.Run.RunId,
            $"Run {c.Run.RunId} cannot continue: its new password lived only in the process that started it (no -Uri store) or is no longer in the store. " +
            $"Roll it back with 'Undo-Rotation -RunId {c.Run.RunId}' and rotate again.");
    }

    // ---- ApplyAcl: the same change on every node; a node that fails rolls back the ones already changed.

    private static async Task ApplyAclAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        var strategy = StrategyOf(c.Run);
        var user = c.Parameter(P.User);
        var newUser = Ref(c.Run, "Preflight", Refs.NewUser);
        var password = await PasswordAsync(c, s, ct).ConfigureAwait(false);
        var hash = RedisPasswordHash.Of(password);
        await using var nodes = await OpenAsync(c, ct).ConfigureAwait(false);
        var applied = new List<RedisConnection>();
        foreach (var node in nodes.Nodes)
        {
            try
            {
                switch (strategy)
                {
                    case RedisAclStrategy.DualPassword:
                        await node.AclSetUserAsync(user, [">" + password], [password], ct).ConfigureAwait(false);
                        break;
                    case RedisAclStrategy.NewUser:
                        var source = await node.AclGetUserAsync(user, ct).ConfigureAwait(false)
                            ?? throw Errors.Errors.NotFound(RotationErrorIds.RedisUserNotFound, user, $"The ACL user '{user}' disappeared from {node.Endpoint} during the rotation.");
                        var existing = await node.AclGetUserAsync(newUser, ct).ConfigureAwait(false);
                        if (existing is not null && !existing.PasswordHashes.Contains(hash))
                        {
                            throw new RotationException(RotationErrorIds.RedisUserExists, RotationErrorCategory.ResourceExists, newUser,
                                $"The ACL user '{newUser}' appeared on {node.Endpoint} while rotating (another rotation?); nothing of this run is left on the nodes. Rotate again.");
                        }
                        await node.AclSetUserAsync(newUser, [.. source.CloneRules(), ">" + password], [password], ct).ConfigureAwait(false);
                        break;
                    case RedisAclStrategy.RequirePass:
                        var current = await node.AclGetUserAsync("default", ct).ConfigureAwait(false);
                        // What puts the old password back: its hashes, or nopass for a default user without one.
                        s.RequirePassRestore[node.Endpoint.ToString()] = current is null || current.Flags.Contains("nopass")
                            ? ["nopass"]
                            : ["resetpass", .. current.PasswordHashes.Select(h => "#" + h)];
                        await node.ConfigSetAsync("requirepass", password, sensitive: true, ct).ConfigureAwait(false);
                        break;
                }
                applied.Add(node);
                c.SetRef(Refs.AppliedNodes, string.Join(",", applied.Select(a => a.Endpoint.ToString())));
            }
            catch (RotationException ex)
            {
                var rollback = await RevertNodesAsync(c, s, applied.Select(a => a.Endpoint).ToList(), ct).ConfigureAwait(false);
                c.SetRef(Refs.AppliedNodes, string.Join(",", rollback.Failed));
                var tail = applied.Count == 0
                    ? "No node was changed."
                    : rollback.Failed.Count == 0
                        ? $"The nodes already changed ({string.Join(", ", applied.Select(a => a.Endpoint))}) were rolled back, so no node holds the change."
                        : $"Rolling back {string.Join(", ", rollback.Failed)} failed too ({rollback.Error}); finish with 'Undo-Rotation -RunId {c.Run.RunId}' once they are reachable.";
                throw new RotationException(ex.ErrorId, ex.Category, ex.TargetName, $"{ex.Message} {tail}", ex);
            }
        }
    }

    private static async Task RevertAclAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        var applied = c.Step.Refs.GetValueOrDefault(Refs.AppliedNodes);
        // A crash inside ApplyAcl may have changed a node before it was recorded: revert on every node (idempotent).
        var targets = string.IsNullOrEmpty(applied) || c.Step.Status != StepStatus.Done ? EndpointsOf(c.Run) : RedisEndpoint.ParseMany([applied]);
        var result = await RevertNodesAsync(c, s, targets, ct).ConfigureAwait(false);
        if (result.Failed.Count > 0)
        {
            throw new RotationException(RotationErrorIds.RedisCommandFailed, RotationErrorCategory.InvalidOperation, string.Join(",", result.Failed),
                $"Could not roll back the ACL change on {string.Join(", ", result.Failed)}: {result.Error} Run 'Undo-Rotation -RunId {c.Run.RunId}' again once they are reachable.");
        }
    }

    private static async Task<(List<string> Failed, string? Error)> RevertNodesAsync(RunStepContext c, RedisRunState s, IReadOnlyList<RedisEndpoint> endpoints, CancellationToken ct)
    {
        var strategy = StrategyOf(c.Run);
        var user = c.Parameter(P.User);
        var newUser = Ref(c.Run, "Preflight", Refs.NewUser);
        var fingerprint = Ref(c.Run, "StorePending", Refs.Fingerprint);
        var admin = c.Input<RotationCredential>(AdminCredentialInput);
        var options = Options(c.Run);
        var failed = new List<string>();
        string? error = null;
        var modes = PersistenceModes(c.Run);
        foreach (var endpoint in endpoints)
        {
            try
            {
                await using var node = await RedisConnection.ConnectAsync(endpoint, admin, options, ct).ConfigureAwait(false);
                switch (strategy)
                {
                    case RedisAclStrategy.DualPassword:
                        var u = await node.AclGetUserAsync(user, ct).ConfigureAwait(false);
                        var added = u?.PasswordHashes.Where(h => RedisPasswordHash.FingerprintOfHash(h) == fingerprint).ToList() ?? [];
                        if (added.Count > 0)
                        {
                            await node.AclSetUserAsync(user, added.Select(h => "!" + h), added, ct).ConfigureAwait(false);
                        }
                        break;
                    case RedisAclStrategy.NewUser:
                        if (newUser != user)
                        {
                            await node.AclDelUserAsync(newUser, ct).ConfigureAwait(false);
                        }
                        break;
                    case RedisAclStrategy.RequirePass:
                        await RestoreRequirePassAsync(c, s, node, fingerprint, ct).ConfigureAwait(false);
                        break;
                }
                await PersistNodeAsync(node, modes.GetValueOrDefault(endpoint.ToString()), c.Parameter(P.Persist) == "true", ct).ConfigureAwait(false);
            }
            catch (RotationException ex)
            {
                failed.Add(endpoint.ToString());
                error ??= ex.Message;
            }
        }
        return (failed, error);
    }

    /// <summary>
    /// Puts the default user's old password back: from the hashes read in this process just before the change, or
    /// from the store's Current (the old value while the rotation is not published).
    /// </summary>
    private static async Task RestoreRequirePassAsync(RunStepContext c, RedisRunState s, RedisConnection node, string newFingerprint, CancellationToken ct)
    {
        var u = await node.AclGetUserAsync("default", ct).ConfigureAwait(false);
        if (u is not null && !u.PasswordHashes.Any(h => RedisPasswordHash.FingerprintOfHash(h) == newFingerprint))
        {
            return; // this node never took the new password, or was restored already
        }
        if (s.RequirePassRestore.TryGetValue(node.Endpoint.ToString(), out var restore))
        {
            await node.AclSetUserAsync("default", restore, restore, ct).ConfigureAwait(false);
            return;
        }
        if (c.OptionalParameter(P.Uri) is { } uri)
        {
            var store = c.Services.OpenStore(uri);
            var old = PasswordOf(store.Uri, (await store.GetAsync(SecretStage.Current, ct).ConfigureAwait(false)).Value);
            if (Fingerprint.Of(old) != newFingerprint)
            {
                await node.ConfigSetAsync("requirepass", old, sensitive: true, ct).ConfigureAwait(false);
                return;
            }
        }
        throw new RotationException(RotationErrorIds.RedisCommandFailed, RotationErrorCategory.InvalidOperation, node.Endpoint.ToString(),
            $"The old requirepass of {node.Endpoint} is not known to this process and no store holds it: set it back by hand (CONFIG SET requirepass) or keep the new one.");
    }

    // ---- VerifyLogin: a real AUTH with the new password on a fresh connection to every node.

    private static async Task VerifyLoginAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        var strategy = StrategyOf(c.Run);
        var user = c.Parameter(P.User);
        var newUser = Ref(c.Run, "Preflight", Refs.NewUser);
        var password = await PasswordAsync(c, s, ct).ConfigureAwait(false);
        var credential = RotationCredential.FromPlainText(newUser, password);
        var options = Options(c.Run);
        await using var nodes = await OpenAsync(c, ct).ConfigureAwait(false);
        string? signature = null;
        RedisConnection? reference = null;
        foreach (var node in nodes.Nodes)
        {
            try
            {
                await using var login = await RedisConnection.ConnectAsync(node.Endpoint, credential, options, ct).ConfigureAwait(false);
                await login.PingAsync(ct).ConfigureAwait(false);
            }
            catch (RotationException ex)
            {
                throw new RotationException(RotationErrorIds.RedisVerificationFailed, RotationErrorCategory.AuthenticationError, newUser,
                    $"A login as '{newUser}' with the new password failed on {node.Endpoint}: {ex.Message}", ex);
            }
            var now = await node.AclGetUserAsync(newUser, ct).ConfigureAwait(false);
            if (strategy == RedisAclStrategy.NewUser)
            {
                var source = await node.AclGetUserAsync(user, ct).ConfigureAwait(false);
                if (source is null || now is null || source.RuleSignature() != now.RuleSignature())
                {
                    throw new RotationException(RotationErrorIds.RedisVerificationFailed, RotationErrorCategory.InvalidResult, newUser,
                        $"The rules of '{newUser}' on {node.Endpoint} differ from those of '{user}' ({(source is null || now is null ? "a user is missing" : RedisAclUser.Describe(source, now))}).");
                }
            }
            if (now is not null)
            {
                var sig = now.RuleSignature();
                if (signature is not null && sig != signature)
                {
                    throw new RotationException(RotationErrorIds.RedisNodesDiverged, RotationErrorCategory.InvalidData, newUser,
                        $"After the change, '{newUser}' has different rules on {reference!.Endpoint} and {node.Endpoint}. The change is rolled back; make the nodes agree and rotate again.");
                }
                signature ??= sig;
                reference ??= node;
            }
        }
    }

    // ---- Persist: ACL SAVE where an ACL file is used, else CONFIG REWRITE where a config file exists.

    private static async Task PersistAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        var modes = PersistenceModes(c.Run);
        var persist = c.Parameter(P.Persist) == "true";
        await using var nodes = await OpenAsync(c, ct).ConfigureAwait(false);
        var done = new List<RedisPersistence>();
        foreach (var node in nodes.Nodes)
        {
            var mode = modes.GetValueOrDefault(node.Endpoint.ToString());
            done.Add(await PersistNodeAsync(node, mode, persist, ct).ConfigureAwait(false));
        }
        var weakest = done.Min();
        if (weakest == RedisPersistence.None)
        {
            c.Services.Log.Warning(persist
                ? $"The ACL change on {string.Join(", ", nodes.Nodes.Where((_, i) => done[i] == RedisPersistence.None).Select(n => n.Endpoint))} is in memory only (no aclfile, no config file): a restart of those nodes loses it."
                : "The ACL change was not persisted (persistence was turned off): a restart loses it.");
        }
        c.SetRef(Refs.Persistence, weakest.ToString());
    }

    internal static async Task<RedisPersistence> PersistNodeAsync(RedisConnection node, RedisPersistence mode, bool persist, CancellationToken ct)
    {
        if (!persist)
        {
            return RedisPersistence.None;
        }
        switch (mode)
        {
            case RedisPersistence.AclSave:
                await node.AclSaveAsync(ct).ConfigureAwait(false);
                break;
            case RedisPersistence.ConfigRewrite:
                await node.ConfigRewriteAsync(ct).ConfigureAwait(false);
                break;
        }
        return mode;
    }

    private static Dictionary<string, RedisPersistence> PersistenceModes(RotationRun run) =>
        (run.Step("Preflight")?.Refs.GetValueOrDefault(Refs.Persistence) ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2 && Enum.TryParse<RedisPersistence>(p[1], out _))
            .ToDictionary(p => p[0], p => Enum.Parse<RedisPersistence>(p[1]), StringComparer.Ordinal);

    // ---- PublishCurrent: the store's Pending becomes Current only after every node accepted the login.

    private static async Task PublishCurrentAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        if (c.OptionalParameter(P.Uri) is not { } uri)
        {
            return;
        }
        var done = await c.Services.OpenStore(uri).CompleteAsync(c.Run.Step("StorePending")?.Refs.GetValueOrDefault(Refs.VersionId), ct).ConfigureAwait(false);
        c.SetRef(Refs.VersionId, done.VersionId);
    }

    private static async Task UnpublishAsync(RunStepContext c, RedisRunState s, CancellationToken ct)
    {
        if (c.OptionalParameter(P.Uri) is not { } uri || c.Step.Status != StepStatus.Done)
        {
            return;
        }
        var store = c.Services.OpenStore(uri);
        var current = await store.GetAsync(SecretStage.Current, ct).ConfigureAwait(false);
        if (current.VersionId == c.Step.Refs.GetValueOrDefault(Refs.VersionId))
        {
            await store.UndoAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>What the steps of one run share in memory (never journaled).</summary>
    private sealed class RedisRunState
    {
        public string? Password { get; set; }

        /// <summary>Per node, the ACL SETUSER rules that restore the default user's old password (hashes or nopass).</summary>
        public Dictionary<string, List<string>> RequirePassRestore { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Step(string name, RedisRunState state,
        Func<RunStepContext, RedisRunState, CancellationToken, Task> execute,
        Func<RunStepContext, RedisRunState, CancellationToken, Task>? compensate) : IRunStep
    {
        public string Name => name;

        public Task ExecuteAsync(RunStepContext context, CancellationToken cancellationToken) => execute(context, state, cancellationToken);

        public Task CompensateAsync(RunStepContext context, CancellationToken cancellationToken) =>
            compensate is null ? Task.CompletedTask : compensate(context, state, cancellationToken);
    }
}

/// <summary>User name versions: backend, backend_v2, backend_v3...</summary>
internal static class RedisUserNames
{
    public static (string Base, int Version) Split(string name)
    {
        var i = name.LastIndexOf("_v", StringComparison.Ordinal);
        if (i > 0 && int.TryParse(name.AsSpan(i + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1)
        {
            return (name[..i], v);
        }
        return (name, 1);
    }
}

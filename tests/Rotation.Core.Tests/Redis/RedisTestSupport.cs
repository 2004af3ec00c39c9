using System.Diagnostics;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Redis;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Redis;

/// <summary>The Redis server tests/servers.sh starts, and helpers to make unique users on it.</summary>
public sealed class RedisTestServer
{
    public RedisEndpoint Endpoint { get; } = RedisEndpoint.Parse(TestEnvironment.Require("ROTATION_TEST_REDIS_ENDPOINT"));

    public RotationCredential Admin { get; } = RotationCredential.FromPlainText(
        TestEnvironment.Require("ROTATION_TEST_REDIS_ADMIN_USER"), TestEnvironment.Require("ROTATION_TEST_REDIS_ADMIN_PASSWORD"));

    /// <summary>
    /// A port of this suite's block (tests/servers.sh puts Redis on BASE+2): extra nodes use BASE+5..BASE+8, and
    /// BASE+9 is never listened on (the unreachable node). With BASE 55450: 55455-55459.
    /// </summary>
    public int BlockPort(int offset) => Endpoint.Port - 2 + offset;

    public RedisEndpoint Unreachable => new("127.0.0.1", BlockPort(9));

    public static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid().ToString("N")[..10]}";

    public Task<RedisConnection> AdminAsync(RedisEndpoint? endpoint = null) => RedisConnection.ConnectAsync(endpoint ?? Endpoint, Admin);

    /// <summary>Creates an ACL user on the given nodes and returns its login.</summary>
    public async Task<RotationCredential> CreateUserAsync(string name, IEnumerable<string> rules, params RedisEndpoint[] endpoints)
    {
        var password = SecretGenerator.NewPassword();
        foreach (var e in endpoints.Length == 0 ? [Endpoint] : endpoints)
        {
            await using var admin = await RedisConnection.ConnectAsync(e, Admin);
            await admin.AclSetUserAsync(name, ["reset", "on", ">" + password, .. rules], [password]);
        }
        return RotationCredential.FromPlainText(name, password);
    }

    public async Task DeleteUsersAsync(string prefix, params RedisEndpoint[] endpoints)
    {
        foreach (var e in endpoints.Length == 0 ? [Endpoint] : endpoints)
        {
            try
            {
                await using var admin = await RedisConnection.ConnectAsync(e, Admin);
                foreach (var line in await admin.AclListAsync())
                {
                    var name = line.Split(' ')[1];
                    if (name.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        await admin.AclDelUserAsync(name);
                    }
                }
            }
            catch (RotationException)
            {
                // a node a test stopped on purpose
            }
        }
    }
}

/// <summary>How an extra node keeps its users: an ACL file, a config file (user lines in it), or memory only.</summary>
public enum NodeConfig
{
    AclFile,
    ConfigFile,
    MemoryOnly,

    /// <summary>Memory only, and reachable only over TLS (a test CA signs its certificate for redis.test and 127.0.0.1).</summary>
    TlsMemoryOnly,
}

/// <summary>Extra redis-server processes (loopback only, default user off) that a test class owns and stops.</summary>
public sealed class RedisExtraNodes : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<ProcessStartInfo> _starts = [];
    private readonly TempDirectory _dir = new();
    private int _tlsPort;

    public RedisExtraNodes(RotationCredential admin, params (int Port, NodeConfig Config)[] nodes)
    {
        var adminRule = $"user {admin.UserName} on #{RedisPasswordHash.Of(SecureStrings.ToPlainText(admin.Password))} ~* &* +@all";
        foreach (var (port, config) in nodes)
        {
            var p = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var psi = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, UseShellExecute = false };
            if (config == NodeConfig.ConfigFile)
            {
                var conf = _dir.File($"redis-{p}.conf");
                File.WriteAllText(conf, $"port {p}\nbind 127.0.0.1\ndir {_dir.Path}\nsave \"\"\nappendonly no\nlogfile {_dir.File($"redis-{p}.log")}\nuser default off\n{adminRule}\n");
                psi.ArgumentList.Add(conf);
            }
            else
            {
                var tls = config == NodeConfig.TlsMemoryOnly;
                if (tls)
                {
                    _tlsPort = port;
                    WriteTlsFiles();
                    foreach (var a in new[] { "--port", "0", "--tls-port", p, "--tls-cert-file", _dir.File("server.pem"), "--tls-key-file", _dir.File("server.key"),
                        "--tls-ca-cert-file", CaFile, "--tls-auth-clients", "no" })
                    {
                        psi.ArgumentList.Add(a);
                    }
                }
                foreach (var a in new[] { tls ? "--tls-replication" : "--port", tls ? "no" : p, "--bind", "127.0.0.1", "--dir", _dir.Path, "--save", "", "--appendonly", "no", "--logfile", _dir.File($"redis-{p}.log") })
                {
                    psi.ArgumentList.Add(a);
                }
                if (config == NodeConfig.AclFile)
                {
                    File.WriteAllText(AclFile(port), $"user default off\n{adminRule}\n");
                    psi.ArgumentList.Add("--aclfile");
                    psi.ArgumentList.Add(AclFile(port));
                }
                else
                {
                    // Separate arguments: one quoted rule string kills the server (PROTOCOL-NOTES).
                    foreach (var a in new[] { "--user", "default", "off", "--user", admin.UserName, "on", "#" + RedisPasswordHash.Of(SecureStrings.ToPlainText(admin.Password)), "~*", "&*", "+@all" })
                    {
                        psi.ArgumentList.Add(a);
                    }
                }
            }
            _starts.Add(psi);
            _processes.Add(Process.Start(psi)!);
            Endpoints.Add(new RedisEndpoint("127.0.0.1", port));
        }
    }

    public List<RedisEndpoint> Endpoints { get; } = [];

    public string CaFile => _dir.File("ca.pem");

    /// <summary>A private CA and a server certificate for redis.test and 127.0.0.1, as PEM files redis-server reads.</summary>
    private void WriteTlsFiles()
    {
        using var caKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var caReq = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Rotation Test CA", caKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(
            System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign | System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.CrlSign, true));
        using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var req = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=redis.test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddDnsName("redis.test");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        File.WriteAllText(_dir.File("server.pem"), cert.ExportCertificatePem());
        File.WriteAllText(_dir.File("server.key"), key.ExportPkcs8PrivateKeyPem());
    }

    public string AclFile(int port) => _dir.File($"users-{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}.acl");

    public string ConfigFile(int port) => _dir.File($"redis-{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}.conf");

    public async Task WaitReadyAsync(RotationCredential admin, RedisConnectionOptions? tlsOptions = null)
    {
        foreach (var e in Endpoints)
        {
            var sw = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    var tls = File.Exists(CaFile) && e.Port == _tlsPort;
                    await using var c = await RedisConnection.ConnectAsync(e, admin, tls ? tlsOptions : null);
                    await c.PingAsync();
                    break;
                }
                catch (RotationException ex)
                {
                    // Generous: the machine is shared and can be very busy. A node that died says why.
                    var i = Endpoints.IndexOf(e);
                    var process = _processes[i];
                    var log = _dir.File($"redis-{e.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}.log");
                    // The port is in the kernel's ephemeral range: a client socket of another test may hold it for a
                    // moment. Start again rather than fail.
                    if (process.HasExited && sw.Elapsed < TimeSpan.FromSeconds(60) && File.Exists(log)
                        && File.ReadAllText(log).Contains("Address already in use", StringComparison.Ordinal))
                    {
                        File.Delete(log);
                        process.Dispose();
                        await Task.Delay(500);
                        _processes[i] = Process.Start(_starts[i])!;
                        continue;
                    }
                    if (process.HasExited || sw.Elapsed > TimeSpan.FromSeconds(60))
                    {
                        throw new InvalidOperationException($"redis-server on {e} did not start ({ex.Message}): " +
                            (File.Exists(log) ? string.Join(" | ", File.ReadLines(log).TakeLast(5)) : "no log"), ex);
                    }
                    await Task.Delay(100);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try
            {
                p.Kill();
                await p.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        _dir.Dispose();
    }
}

/// <summary>Journal, audit and log in memory, with everything they captured available for leak checks.</summary>
public sealed class TestRotationServices
{
    public MemoryJournal Journal { get; } = new();
    public List<RotationAuditRecord> AuditRecords { get; } = [];
    public List<string> LogLines { get; } = [];
    public MemoryStores Stores { get; } = new();

    public RotationServices Build() => new()
    {
        Stores = Stores.Registry,
        StoreContext = StoreContext.Default,
        Journal = Journal,
        Audit = new ListAudit(AuditRecords),
        Log = new ListLog(LogLines),
    };

    /// <summary>Everything written anywhere, as captured text.</summary>
    public IEnumerable<(string Name, string Text)> Captured() =>
        Journal.Runs.Select(r => ("journal " + r.RunId, System.Text.Json.JsonSerializer.Serialize(r)))
            .Concat(AuditRecords.Select(a => ("audit", System.Text.Json.JsonSerializer.Serialize(a))))
            .Concat(LogLines.Select(l => ("log", l)));

    private sealed class ListAudit(List<RotationAuditRecord> records) : IAuditSink
    {
        public void Write(RotationAuditRecord record)
        {
            lock (records)
            {
                records.Add(record);
            }
        }
    }

    private sealed class ListLog(List<string> lines) : IRotationLog
    {
        public void Verbose(string message)
        {
            lock (lines)
            {
                lines.Add("VERBOSE " + message);
            }
        }

        public void Warning(string message)
        {
            lock (lines)
            {
                lines.Add("WARNING " + message);
            }
        }
    }
}

public sealed class MemoryJournal : IRunJournal
{
    private readonly Dictionary<string, string> _runs = new(StringComparer.Ordinal);

    public IEnumerable<RotationRun> Runs
    {
        get
        {
            lock (_runs)
            {
                return _runs.Values.Select(j => System.Text.Json.JsonSerializer.Deserialize<RotationRun>(j)!).ToList();
            }
        }
    }

    public void Save(RotationRun run)
    {
        lock (_runs)
        {
            _runs[run.RunId] = System.Text.Json.JsonSerializer.Serialize(run);
        }
    }

    public RotationRun Load(string runId)
    {
        lock (_runs)
        {
            return _runs.TryGetValue(runId, out var j)
                ? System.Text.Json.JsonSerializer.Deserialize<RotationRun>(j)!
                : throw Errors.Errors.NotFound(RotationErrorIds.RunNotFound, runId, $"No run {runId}.");
        }
    }

    public IReadOnlyList<RotationRun> List() => Runs.ToList();

    public IDisposable Lock(string runId) => new Releaser();

    private sealed class Releaser : IDisposable
    {
        public void Dispose() { }
    }
}

/// <summary>
/// An in-memory store under the file:// scheme with the staging semantics of ISecretStore (enough for the
/// ordering proofs here). It records the order of stage changes so a test can check Pending came first.
/// </summary>
public sealed class MemoryStores
{
    private readonly Dictionary<string, MemoryStore> _stores = new(StringComparer.Ordinal);

    public MemoryStores()
    {
        Registry = new SecretStoreRegistry();
        Registry.Register(SecretStoreUri.File, (uri, _) =>
        {
            lock (_stores)
            {
                return _stores.TryGetValue(uri.Original, out var s) ? s : _stores[uri.Original] = new MemoryStore(uri, Events, (e, v) => Observer?.Invoke(e, v));
            }
        });
    }

    public SecretStoreRegistry Registry { get; }

    public List<string> Events { get; } = [];

    /// <summary>Called after each stage change with the event and the value written (tests check the server then).</summary>
    public Action<string, SecretValue>? Observer { get; set; }

    public sealed class MemoryStore(SecretStoreUri uri, List<string> events, Action<string, SecretValue> observe) : ISecretStore
    {
        private readonly List<(string Id, SecretValue Value, List<SecretStage> Stages, string? RunId)> _versions = [];

        public SecretStoreUri Uri => uri;

        private void Log(string e)
        {
            lock (events)
            {
                events.Add(e);
            }
        }

        public Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
        {
            lock (_versions)
            {
                var v = _versions.FirstOrDefault(x => x.Stages.Contains(stage));
                return v.Id is null
                    ? throw Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, uri.Original, $"No {stage} version.")
                    : Task.FromResult(Stored(v));
            }
        }

        public Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
        {
            lock (_versions)
            {
                return Task.FromResult(new SecretDescription
                {
                    Uri = uri,
                    Exists = _versions.Count > 0,
                    Versions = _versions.Select(v => new SecretVersionInfo { VersionId = v.Id, Stages = v.Stages.ToList(), RunId = v.RunId, Fingerprint = v.Value.Fingerprint }).ToList(),
                });
            }
        }

        public Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
        {
            lock (_versions)
            {
                var pending = _versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
                if (pending.Id is not null && pending.RunId != options.RunId)
                {
                    throw Errors.Errors.InProgress(uri.Original, pending.RunId ?? "?");
                }
                if (stage == SecretStage.Pending && pending.Id is not null)
                {
                    pending.Stages.Remove(SecretStage.Pending);
                }
                if (stage == SecretStage.Current)
                {
                    Shift();
                }
                var v = (Guid.NewGuid().ToString("N"), value, new List<SecretStage> { stage }, options.RunId);
                _versions.Add(v);
                Log($"put {stage}");
                observe($"put {stage}", value);
                return Task.FromResult(Stored(v));
            }
        }

        public Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default)
        {
            lock (_versions)
            {
                var pending = _versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Pending));
                if (pending.Id is null)
                {
                    var cur = _versions.First(v => v.Stages.Contains(SecretStage.Current));
                    return cur.Id == expectedVersionId ? Task.FromResult(Stored(cur))
                        : throw Errors.Errors.NotFound(RotationErrorIds.NoPendingVersion, uri.Original, "No pending version.");
                }
                Shift();
                pending.Stages.Remove(SecretStage.Pending);
                pending.Stages.Add(SecretStage.Current);
                Log("complete");
                observe("complete", pending.Value);
                return Task.FromResult(Stored(pending));
            }
        }

        public Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default)
        {
            lock (_versions)
            {
                var prev = _versions.First(v => v.Stages.Contains(SecretStage.Previous));
                var cur = _versions.First(v => v.Stages.Contains(SecretStage.Current));
                prev.Stages.Remove(SecretStage.Previous);
                prev.Stages.Add(SecretStage.Current);
                cur.Stages.Remove(SecretStage.Current);
                cur.Stages.Add(SecretStage.Previous);
                Log("undo");
                return Task.FromResult(Stored(prev));
            }
        }

        public Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default)
        {
            lock (_versions)
            {
                var n = _versions.RemoveAll(v => v.Stages.Contains(SecretStage.Pending) && v.Stages.Count == 1 && (runId is null || v.RunId == runId));
                if (n > 0)
                {
                    Log("cancel");
                }
            }
            return Task.CompletedTask;
        }

        private void Shift()
        {
            foreach (var v in _versions)
            {
                v.Stages.Remove(SecretStage.Previous);
            }
            foreach (var v in _versions.Where(v => v.Stages.Remove(SecretStage.Current)))
            {
                v.Stages.Add(SecretStage.Previous);
            }
        }

        private StoredSecret Stored((string Id, SecretValue Value, List<SecretStage> Stages, string? RunId) v) =>
            new() { Uri = uri, VersionId = v.Id, Stages = v.Stages.ToList(), Value = v.Value, RunId = v.RunId };
    }
}

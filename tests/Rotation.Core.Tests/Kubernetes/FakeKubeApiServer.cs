using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>
/// An in-process Kubernetes API server for exactly the paths Rotation (and kubectl get/apply/patch/rollout) uses:
/// /version, discovery, secrets, pods, deployments/statefulsets/daemonsets, externalsecrets; GET, LIST with
/// selectors, POST, PUT with resourceVersion conflicts, PATCH (strategic-merge, merge, apply), WATCH. A raw HTTP/1.1
/// server on 127.0.0.1 (an OS-chosen port), optionally TLS with a self-signed certificate. A small controller moves
/// rollouts forward (or stalls them) and answers External Secrets force-syncs. Cross-checked against the real kubectl.
/// </summary>
public sealed class FakeKubeApiServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly List<(long Rv, string Collection, string Type, JsonObject Obj)> _events = [];
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly Task _acceptLoop;
    private long _rv = 100;
    private int _podSeq;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeKubeApiServer(X509Certificate2? certificate)
    {
        Certificate = certificate;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseUri = new Uri($"{(certificate is null ? "http" : "https")}://127.0.0.1:{port}");
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public static FakeKubeApiServer Start(bool https = false) => new(https ? CreateCertificate() : null);

    /// <summary>Over https: ask for a client certificate; requests record its subject in the X-Client-Certificate header.</summary>
    public bool RequestClientCertificate { get; set; }

    public Uri BaseUri { get; }

    public X509Certificate2? Certificate { get; }

    public string CertificatePem => Certificate is null ? string.Empty : Certificate.ExportCertificatePem();

    /// <summary>When set, every request but /version must carry this bearer token (401 otherwise).</summary>
    public string? RequiredToken { get; set; }

    public ConcurrentDictionary<string, bool> ForbiddenNamespaces { get; } = new(StringComparer.Ordinal);

    /// <summary>The next N writes (PUT/PATCH) to existing objects first see a concurrent writer change the object.</summary>
    public int ConcurrentWritesToInject { get; set; }

    /// <summary>When true, every PUT is answered 409 (a writer that never lets go).</summary>
    public bool AlwaysConflict { get; set; }

    public TimeSpan ControllerDelay { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>The next N watches answer with an ERROR event 410 Gone (resourceVersion too old), as after compaction.</summary>
    public int WatchesToExpire { get; set; }

    /// <summary>Workloads ("ns/name") whose rollouts never complete: new pods wait with this reason.</summary>
    public ConcurrentDictionary<string, string> StalledWorkloads { get; } = new(StringComparer.Ordinal);

    /// <summary>ExternalSecrets ("ns/name") that ignore force-sync; and ones whose sync fails.</summary>
    public ConcurrentDictionary<string, bool> StuckExternalSecrets { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, bool> FailingExternalSecrets { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public void ClearRequests() => _requests.Clear();

    // ---- seeding and inspection ----------------------------------------------------------------------------------

    public JsonObject AddSecret(string ns, string name, IDictionary<string, string> data, IDictionary<string, string>? annotations = null)
    {
        var obj = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["type"] = "Opaque",
            ["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(Convert.ToBase64String(Encoding.UTF8.GetBytes(kv.Value)))))),
        };
        if (annotations is not null)
        {
            obj["metadata"]!["annotations"] = new JsonObject(annotations.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        }
        return Seed("secrets", ns, obj);
    }

    /// <summary>A workload whose pod template consumes secrets as given (volumes / env / envFrom).</summary>
    public JsonObject AddWorkload(string kind, string ns, string name, int replicas, JsonObject podSpec)
    {
        var labels = new JsonObject { ["app"] = name };
        var obj = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = kind,
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = labels.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = labels.DeepClone() },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = labels.DeepClone() },
                    ["spec"] = podSpec,
                },
            },
        };
        if (kind != "DaemonSet")
        {
            obj["spec"]!["replicas"] = replicas;
        }
        var stored = Seed(Plural(kind), ns, obj);
        // Born settled: pods running, status complete.
        Reconcile(Plural(kind), ns, name, immediate: true);
        return stored;
    }

    public JsonObject AddExternalSecret(string ns, string name, string version = "v1", string target = "")
    {
        var obj = new JsonObject
        {
            ["apiVersion"] = "external-secrets.io/" + version,
            ["kind"] = "ExternalSecret",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject { ["refreshInterval"] = "1h", ["target"] = new JsonObject { ["name"] = target.Length == 0 ? name : target } },
            ["status"] = new JsonObject
            {
                ["refreshTime"] = Rfc3339(DateTimeOffset.UtcNow.AddHours(-1)),
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["reason"] = "SecretSynced", ["lastTransitionTime"] = Rfc3339(DateTimeOffset.UtcNow.AddHours(-1)) }),
            },
        };
        return Seed("externalsecrets", ns, obj);
    }

    public JsonObject? Get(string plural, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue(Key(plural, ns, name), out var o) ? (JsonObject)o.DeepClone() : null;
        }
    }

    public IReadOnlyList<JsonObject> List(string plural, string ns)
    {
        lock (_gate)
        {
            return _objects.Where(kv => kv.Key.StartsWith(plural + "/" + ns + "/", StringComparison.Ordinal)).Select(kv => (JsonObject)kv.Value.DeepClone()).ToList();
        }
    }

    public void Delete(string plural, string ns, string name)
    {
        lock (_gate)
        {
            if (_objects.Remove(Key(plural, ns, name), out var old))
            {
                Emit(plural, ns, "DELETED", old);
            }
        }
    }

    /// <summary>Changes an object as another writer would (bumps resourceVersion, emits MODIFIED).</summary>
    public void Mutate(string plural, string ns, string name, Action<JsonObject> change)
    {
        lock (_gate)
        {
            var obj = _objects[Key(plural, ns, name)];
            change(obj);
            Store(plural, ns, obj, "MODIFIED", "someone-else", "Update");
        }
    }

    public string DecodedSecretValue(string ns, string name, string key) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(Get("secrets", ns, name)!["data"]![key]!.GetValue<string>()));

    private JsonObject Seed(string plural, string ns, JsonObject obj)
    {
        lock (_gate)
        {
            var meta = (JsonObject)obj["metadata"]!;
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Rfc3339(DateTimeOffset.UtcNow.AddDays(-1));
            if (plural is "deployments" or "statefulsets" or "daemonsets" or "externalsecrets")
            {
                meta["generation"] = 1;
            }
            Store(plural, ns, obj, "ADDED", "seed", "Update");
            return (JsonObject)obj.DeepClone();
        }
    }

    // ---- HTTP --------------------------------------------------------------------------------------------------

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            _ = Task.Run(() => ServeConnectionAsync(client));
        }
    }

    private async Task ServeConnectionAsync(TcpClient client)
    {
        using var _ = client;
        // Without this, Nagle's algorithm and the client's delayed ACK add ~40 ms to every response.
        client.NoDelay = true;
        try
        {
            Stream stream = client.GetStream();
            string? clientSubject = null;
            if (Certificate is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = Certificate,
                    ClientCertificateRequired = RequestClientCertificate,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    // HTTP/1.1 only: kubectl (Go) falls back from h2 when the server does not offer it.
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                }, _stop.Token);
                stream = ssl;
                clientSubject = ssl.RemoteCertificate?.Subject;
            }
            await using (stream)
            {
                while (!_stop.IsCancellationRequested)
                {
                    var request = await ReadRequestAsync(stream, clientSubject);
                    if (request is null)
                    {
                        return;
                    }
                    _requests.Enqueue(request);
                    if (!await HandleAsync(request, stream))
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or OperationCanceledException or ObjectDisposedException)
        {
            // client went away
        }
    }

    private static async Task<RecordedRequest?> ReadRequestAsync(Stream stream, string? clientSubject)
    {
        var header = new MemoryStream();
        var buf = new byte[1];
        while (true)
        {
            var n = await stream.ReadAsync(buf);
            if (n == 0)
            {
                return null;
            }
            header.WriteByte(buf[0]);
            var len = header.Length;
            if (len >= 4)
            {
                var b = header.GetBuffer();
                if (b[len - 4] == '\r' && b[len - 3] == '\n' && b[len - 2] == '\r' && b[len - 1] == '\n')
                {
                    break;
                }
            }
        }
        var lines = Encoding.ASCII.GetString(header.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var l in lines.Skip(1).Where(l => l.Length > 0))
        {
            var c = l.IndexOf(':');
            headers[l[..c].Trim()] = l[(c + 1)..].Trim();
        }
        if (clientSubject is not null)
        {
            headers["X-Client-Certificate"] = clientSubject;
        }
        var body = Array.Empty<byte>();
        if (headers.TryGetValue("Content-Length", out var cl) && int.Parse(cl, CultureInfo.InvariantCulture) is > 0 and var length)
        {
            body = new byte[length];
            await stream.ReadExactlyAsync(body);
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var ms = new MemoryStream();
            while (true)
            {
                var sizeLine = await ReadLineAsync(stream);
                var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    await ReadLineAsync(stream);
                    break;
                }
                var chunk = new byte[size];
                await stream.ReadExactlyAsync(chunk);
                ms.Write(chunk);
                await ReadLineAsync(stream);
            }
            body = ms.ToArray();
        }
        return new RecordedRequest(first[0], first[1], headers.GetValueOrDefault("Content-Type"), Encoding.UTF8.GetString(body), headers);
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var sb = new StringBuilder();
        var buf = new byte[1];
        while (await stream.ReadAsync(buf) == 1)
        {
            if (buf[0] == '\n')
            {
                break;
            }
            if (buf[0] != '\r')
            {
                sb.Append((char)buf[0]);
            }
        }
        return sb.ToString();
    }

    private static async Task WriteResponseAsync(Stream stream, int status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n");
        await stream.WriteAsync(head.Concat(bytes).ToArray());
        await stream.FlushAsync();
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        _ => "Status",
    };

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    /// <summary>Returns false when the connection must close.</summary>
    private async Task<bool> HandleAsync(RecordedRequest request, Stream stream)
    {
        var (path, query) = SplitQuery(request.Target);
        if (path == "/version")
        {
            await WriteResponseAsync(stream, 200, new JsonObject { ["major"] = "1", ["minor"] = "32", ["gitVersion"] = "v1.32.0", ["platform"] = "linux/amd64" });
            return true;
        }
        if (RequiredToken is not null && request.Headers.GetValueOrDefault("Authorization") != "Bearer " + RequiredToken)
        {
            await WriteResponseAsync(stream, 401, Status(401, "Unauthorized", "Unauthorized"));
            return true;
        }
        if (Discovery(path) is { } doc)
        {
            await WriteResponseAsync(stream, 200, doc);
            return true;
        }
        var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        // /api/v1/namespaces/{ns}[/{plural}[/{name}]] or /apis/{group}/{version}/namespaces/{ns}/...
        var offset = segments.Length > 0 && segments[0] == "api" ? 2 : 3;
        if (segments.Length < offset + 2 || segments[offset] != "namespaces")
        {
            await WriteResponseAsync(stream, 404, Status(404, "NotFound", "the server could not find the requested resource"));
            return true;
        }
        var ns = segments[offset + 1];
        if (ForbiddenNamespaces.ContainsKey(ns))
        {
            var res = segments.Length > offset + 2 ? segments[offset + 2] : "namespaces";
            await WriteResponseAsync(stream, 403, Status(403, "Forbidden",
                $"{res} is forbidden: User \"system:serviceaccount:ci:rotation\" cannot {request.Method.ToLowerInvariant()} resource \"{res}\" in API group \"\" in the namespace \"{ns}\""));
            return true;
        }
        if (segments.Length == offset + 2)
        {
            await WriteResponseAsync(stream, 200, new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Namespace",
                ["metadata"] = new JsonObject { ["name"] = ns, ["resourceVersion"] = "1" },
                ["status"] = new JsonObject { ["phase"] = "Active" },
            });
            return true;
        }
        var plural = segments[offset + 2];
        var name = segments.Length > offset + 3 ? segments[offset + 3] : null;
        if (!KnownPlurals.Contains(plural))
        {
            await WriteResponseAsync(stream, 404, Status(404, "NotFound", "the server could not find the requested resource"));
            return true;
        }
        if (name is null && request.Method == "GET" && (query.GetValueOrDefault("watch") is "true" or "1"))
        {
            await WatchAsync(stream, plural, ns, query);
            return false;
        }
        var (status, body) = name is null
            ? request.Method switch
            {
                "GET" => ListObjects(plural, ns, query),
                "POST" => Create(plural, ns, ParseBody(request), query),
                _ => (405, Status(405, "MethodNotAllowed", "method not allowed")),
            }
            : request.Method switch
            {
                "GET" => GetObject(plural, ns, name),
                "PUT" => Replace(plural, ns, name, ParseBody(request), query),
                "PATCH" => Patch(plural, ns, name, request, query),
                "DELETE" => DeleteObject(plural, ns, name),
                _ => (405, Status(405, "MethodNotAllowed", "method not allowed")),
            };
        await WriteResponseAsync(stream, status, body);
        return true;
    }

    private static readonly HashSet<string> KnownPlurals = ["secrets", "pods", "deployments", "statefulsets", "daemonsets", "externalsecrets", "replicasets"];

    private static JsonObject ParseBody(RecordedRequest r) => JsonNode.Parse(r.Body) as JsonObject ?? new JsonObject();

    private static (string Path, Dictionary<string, string> Query) SplitQuery(string target)
    {
        var q = target.IndexOf('?');
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (q < 0)
        {
            return (target, query);
        }
        foreach (var part in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var k = Uri.UnescapeDataString(eq < 0 ? part : part[..eq]);
            query[k] = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
        }
        return (target[..q], query);
    }

    // ---- discovery ---------------------------------------------------------------------------------------------

    private static JsonObject? Discovery(string path) => path switch
    {
        "/api" => new JsonObject
        {
            ["kind"] = "APIVersions",
            ["versions"] = new JsonArray("v1"),
            ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = "127.0.0.1" }),
        },
        "/apis" => new JsonObject
        {
            ["kind"] = "APIGroupList",
            ["apiVersion"] = "v1",
            ["groups"] = new JsonArray(Group("apps", "v1"), Group("external-secrets.io", "v1", "v1beta1")),
        },
        "/apis/apps" => Group("apps", "v1"),
        "/apis/external-secrets.io" => Group("external-secrets.io", "v1", "v1beta1"),
        "/api/v1" => Resources("v1",
            Resource("secrets", "secret", "Secret", true, ["create", "delete", "get", "list", "patch", "update", "watch"]),
            Resource("pods", "pod", "Pod", true, ["get", "list", "watch"]),
            Resource("namespaces", "namespace", "Namespace", false, ["get", "list"])),
        "/apis/apps/v1" => Resources("apps/v1",
            Resource("deployments", "deployment", "Deployment", true, ["create", "delete", "get", "list", "patch", "update", "watch"], "deploy"),
            Resource("statefulsets", "statefulset", "StatefulSet", true, ["create", "delete", "get", "list", "patch", "update", "watch"], "sts"),
            Resource("daemonsets", "daemonset", "DaemonSet", true, ["create", "delete", "get", "list", "patch", "update", "watch"], "ds"),
            Resource("replicasets", "replicaset", "ReplicaSet", true, ["get", "list", "watch"], "rs")),
        "/apis/external-secrets.io/v1" => Resources("external-secrets.io/v1",
            Resource("externalsecrets", "externalsecret", "ExternalSecret", true, ["get", "list", "patch", "update", "watch"], "es")),
        "/apis/external-secrets.io/v1beta1" => Resources("external-secrets.io/v1beta1",
            Resource("externalsecrets", "externalsecret", "ExternalSecret", true, ["get", "list", "patch", "update", "watch"], "es")),
        _ => null,
    };

    private static JsonObject Group(string name, params string[] versions) => new()
    {
        ["kind"] = "APIGroup",
        ["apiVersion"] = "v1",
        ["name"] = name,
        ["versions"] = new JsonArray(versions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"{name}/{v}", ["version"] = v }).ToArray()),
        ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{versions[0]}", ["version"] = versions[0] },
    };

    private static JsonObject Resources(string groupVersion, params JsonObject[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray(resources),
    };

    private static JsonObject Resource(string name, string singular, string kind, bool namespaced, string[] verbs, string? shortName = null)
    {
        var r = new JsonObject
        {
            ["name"] = name,
            ["singularName"] = singular,
            ["namespaced"] = namespaced,
            ["kind"] = kind,
            ["verbs"] = new JsonArray(verbs.Select(v => (JsonNode)v).ToArray()),
        };
        if (shortName is not null)
        {
            r["shortNames"] = new JsonArray(shortName);
        }
        return r;
    }

    // ---- objects -----------------------------------------------------------------------------------------------

    private static string Key(string plural, string ns, string name) => $"{plural}/{ns}/{name}";

    private static string Plural(string kind) => kind.ToLowerInvariant() + "s";

    private static string KindOf(string plural) => plural switch
    {
        "secrets" => "Secret",
        "pods" => "Pod",
        "deployments" => "Deployment",
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        "externalsecrets" => "ExternalSecret",
        _ => "ReplicaSet",
    };

    private static string ApiVersionOf(string plural, JsonObject? obj) => plural switch
    {
        "secrets" or "pods" => "v1",
        "externalsecrets" => obj?["apiVersion"]?.GetValue<string>() ?? "external-secrets.io/v1",
        _ => "apps/v1",
    };

    private static JsonObject NotFound(string plural, string name) =>
        Status(404, "NotFound", $"{plural} \"{name}\" not found");

    private (int, JsonObject) GetObject(string plural, string ns, string name)
    {
        var o = Get(plural, ns, name);
        return o is null ? (404, NotFound(plural, name)) : (200, o);
    }

    private (int, JsonObject) ListObjects(string plural, string ns, Dictionary<string, string> query)
    {
        lock (_gate)
        {
            var items = _objects.Where(kv => kv.Key.StartsWith(plural + "/" + ns + "/", StringComparison.Ordinal))
                .Select(kv => kv.Value)
                .Where(o => Matches(o, query))
                .OrderBy(o => o["metadata"]!["name"]!.GetValue<string>(), StringComparer.Ordinal)
                .Select(o => (JsonNode)o.DeepClone())
                .ToArray();
            return (200, new JsonObject
            {
                ["kind"] = KindOf(plural) + "List",
                ["apiVersion"] = ApiVersionOf(plural, null),
                ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture) },
                ["items"] = new JsonArray(items),
            });
        }
    }

    private static bool Matches(JsonObject o, Dictionary<string, string> query)
    {
        if (query.TryGetValue("fieldSelector", out var fs) && fs.Length > 0)
        {
            foreach (var term in fs.Split(','))
            {
                var neg = term.Contains("!=", StringComparison.Ordinal);
                var parts = term.Split(neg ? "!=" : "=", 2);
                var actual = parts[0] switch
                {
                    "metadata.name" => o["metadata"]?["name"]?.GetValue<string>(),
                    "metadata.namespace" => o["metadata"]?["namespace"]?.GetValue<string>(),
                    _ => null,
                };
                if ((actual == parts[1].TrimStart('=')) == neg)
                {
                    return false;
                }
            }
        }
        if (query.TryGetValue("labelSelector", out var ls) && ls.Length > 0)
        {
            var labels = o["metadata"]?["labels"] as JsonObject;
            foreach (var term in ls.Split(','))
            {
                var neg = term.Contains("!=", StringComparison.Ordinal);
                var parts = term.Split(neg ? "!=" : "=", 2);
                var actual = labels?[parts[0]]?.GetValue<string>();
                if ((actual == parts[1].TrimStart('=')) == neg)
                {
                    return false;
                }
            }
        }
        return true;
    }

    private (int, JsonObject) Create(string plural, string ns, JsonObject body, Dictionary<string, string> query)
    {
        var name = body["metadata"]?["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            return (422, Status(422, "Invalid", "metadata.name: Required value"));
        }
        lock (_gate)
        {
            if (_objects.ContainsKey(Key(plural, ns, name)))
            {
                return (409, Status(409, "AlreadyExists", $"{plural} \"{name}\" already exists"));
            }
            var meta = (JsonObject)body["metadata"]!;
            meta["namespace"] = ns;
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Rfc3339(DateTimeOffset.UtcNow);
            if (plural is "deployments" or "statefulsets" or "daemonsets" or "externalsecrets")
            {
                meta["generation"] = 1;
            }
            if (Normalize(plural, body) is { } error)
            {
                return (422, error);
            }
            var stored = Store(plural, ns, body, "ADDED", query.GetValueOrDefault("fieldManager") ?? "unknown", "Update");
            AfterWrite(plural, ns, name, null, stored);
            return (201, stored);
        }
    }

    private (int, JsonObject) Replace(string plural, string ns, string name, JsonObject body, Dictionary<string, string> query)
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue(Key(plural, ns, name), out var existing))
            {
                return (404, NotFound(plural, name));
            }
            InjectConcurrentWriter(plural, ns, existing);
            var sent = body["metadata"]?["resourceVersion"]?.GetValue<string>();
            var actual = existing["metadata"]!["resourceVersion"]!.GetValue<string>();
            if (AlwaysConflict || (!string.IsNullOrEmpty(sent) && sent != actual))
            {
                return (409, Status(409, "Conflict",
                    $"Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"));
            }
            var meta = (JsonObject)body["metadata"]!;
            foreach (var keep in new[] { "uid", "creationTimestamp", "generation", "namespace" })
            {
                meta[keep] = existing["metadata"]![keep]?.DeepClone();
            }
            if (plural != "secrets" && existing["status"] is { } status && body["status"] is null)
            {
                body["status"] = status.DeepClone();
            }
            if (Normalize(plural, body) is { } error)
            {
                return (422, error);
            }
            BumpGeneration(existing, body);
            var old = (JsonObject)existing.DeepClone();
            var stored = Store(plural, ns, body, "MODIFIED", query.GetValueOrDefault("fieldManager") ?? "unknown", "Update");
            AfterWrite(plural, ns, name, old, stored);
            return (200, stored);
        }
    }

    private (int, JsonObject) Patch(string plural, string ns, string name, RecordedRequest request, Dictionary<string, string> query)
    {
        var contentType = (request.ContentType ?? string.Empty).Split(';')[0].Trim();
        JsonObject patch;
        switch (contentType)
        {
            case "application/strategic-merge-patch+json" when plural == "externalsecrets":
                return (415, Status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"));
            case "application/strategic-merge-patch+json":
            case "application/merge-patch+json":
                patch = ParseBody(request);
                break;
            case "application/apply-patch+yaml":
                patch = YamlToJson(request.Body);
                break;
            default:
                return (415, Status(415, "UnsupportedMediaType", $"the body of the request was in an unknown format: {contentType}"));
        }
        lock (_gate)
        {
            var exists = _objects.TryGetValue(Key(plural, ns, name), out var existing);
            if (!exists)
            {
                if (contentType != "application/apply-patch+yaml")
                {
                    return (404, NotFound(plural, name));
                }
                patch["metadata"] ??= new JsonObject();
                patch["metadata"]!["name"] = name;
                return Create(plural, ns, patch, new Dictionary<string, string> { ["fieldManager"] = query.GetValueOrDefault("fieldManager") ?? "apply" });
            }
            InjectConcurrentWriter(plural, ns, existing!);
            var sent = patch["metadata"]?["resourceVersion"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(sent) && sent != existing!["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                return (409, Status(409, "Conflict", $"Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"));
            }
            var old = (JsonObject)existing!.DeepClone();
            var merged = (JsonObject)MergePatch(existing.DeepClone(), patch)!;
            if (Normalize(plural, merged) is { } error)
            {
                return (422, error);
            }
            BumpGeneration(old, merged);
            var stored = Store(plural, ns, merged, "MODIFIED", query.GetValueOrDefault("fieldManager") ?? "unknown",
                contentType == "application/apply-patch+yaml" ? "Apply" : "Update");
            AfterWrite(plural, ns, name, old, stored);
            return (200, stored);
        }
    }

    private (int, JsonObject) DeleteObject(string plural, string ns, string name)
    {
        var existing = Get(plural, ns, name);
        if (existing is null)
        {
            return (404, NotFound(plural, name));
        }
        Delete(plural, ns, name);
        return (200, existing);
    }

    private void InjectConcurrentWriter(string plural, string ns, JsonObject existing)
    {
        if (ConcurrentWritesToInject > 0)
        {
            ConcurrentWritesToInject--;
            var labels = (existing["metadata"]!["labels"] as JsonObject) ?? new JsonObject();
            labels["touched-by"] = "another-writer-" + ConcurrentWritesToInject;
            existing["metadata"]!["labels"] = labels.DeepClone();
            Store(plural, ns, existing, "MODIFIED", "another-writer", "Update");
        }
    }

    /// <summary>Real API semantics applied on every write: stringData folds into data (base64), data must be base64.</summary>
    private static JsonObject? Normalize(string plural, JsonObject obj)
    {
        obj["kind"] = KindOf(plural);
        obj["apiVersion"] = ApiVersionOf(plural, obj);
        if (plural != "secrets")
        {
            return null;
        }
        var data = obj["data"] as JsonObject ?? new JsonObject();
        foreach (var (k, v) in data)
        {
            try
            {
                Convert.FromBase64String(v?.GetValue<string>() ?? string.Empty);
            }
            catch (FormatException)
            {
                return Status(422, "Invalid", $"Secret \"{obj["metadata"]?["name"]}\" is invalid: data[{k}]: Invalid value: illegal base64 data");
            }
        }
        if (obj["stringData"] is JsonObject sd)
        {
            foreach (var (k, v) in sd)
            {
                data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(v?.GetValue<string>() ?? string.Empty));
            }
            obj.Remove("stringData");
        }
        obj["data"] = data;
        obj["type"] ??= "Opaque";
        return null;
    }

    private static void BumpGeneration(JsonObject old, JsonObject updated)
    {
        if (updated["metadata"]?["generation"] is null)
        {
            return;
        }
        if (!JsonNode.DeepEquals(old["spec"], updated["spec"]))
        {
            updated["metadata"]!["generation"] = old["metadata"]!["generation"]!.GetValue<long>() + 1;
        }
        else
        {
            updated["metadata"]!["generation"] = old["metadata"]!["generation"]!.GetValue<long>();
        }
    }

    private JsonObject Store(string plural, string ns, JsonObject obj, string eventType, string manager, string operation)
    {
        var meta = (JsonObject)obj["metadata"]!;
        meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
        var managed = meta["managedFields"] as JsonArray ?? new JsonArray();
        var entry = managed.OfType<JsonObject>().FirstOrDefault(m => m["manager"]?.GetValue<string>() == manager && m["operation"]?.GetValue<string>() == operation);
        if (entry is null)
        {
            entry = new JsonObject { ["manager"] = manager, ["operation"] = operation, ["apiVersion"] = ApiVersionOf(plural, obj), ["fieldsType"] = "FieldsV1", ["fieldsV1"] = new JsonObject() };
            managed.Add(entry);
        }
        entry["time"] = Rfc3339(DateTimeOffset.UtcNow);
        meta["managedFields"] = managed;
        obj["kind"] ??= KindOf(plural);
        obj["apiVersion"] ??= ApiVersionOf(plural, obj);
        // Re-parsed so every number reads back as any numeric type (as it would from the wire).
        obj = (JsonObject)JsonNode.Parse(obj.ToJsonString())!;
        _objects[Key(plural, ns, obj["metadata"]!["name"]!.GetValue<string>())] = obj;
        Emit(plural, ns, eventType, obj);
        return (JsonObject)obj.DeepClone();
    }

    private void Emit(string plural, string ns, string type, JsonObject obj)
    {
        _events.Add((_rv, plural + "/" + ns, type, (JsonObject)obj.DeepClone()));
        var old = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    private async Task WatchAsync(Stream stream, string plural, string ns, Dictionary<string, string> query)
    {
        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.FlushAsync();
        if (WatchesToExpire > 0)
        {
            WatchesToExpire--;
            await WriteChunkAsync(stream, new JsonObject { ["type"] = "ERROR", ["object"] = Status(410, "Expired", "too old resource version") });
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            await stream.FlushAsync();
            return;
        }
        var timeout = query.TryGetValue("timeoutSeconds", out var ts) ? int.Parse(ts, CultureInfo.InvariantCulture) : 300;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeout));
        long from = query.TryGetValue("resourceVersion", out var rvText) && long.TryParse(rvText, CultureInfo.InvariantCulture, out var rv) ? rv : 0;
        var collection = plural + "/" + ns;
        if (from == 0)
        {
            // resourceVersion unset or 0: start with the current state as ADDED events.
            List<JsonObject> initial;
            lock (_gate)
            {
                initial = _objects.Where(kv => kv.Key.StartsWith(collection + "/", StringComparison.Ordinal)).Select(kv => (JsonObject)kv.Value.DeepClone()).Where(o => Matches(o, query)).ToList();
                from = _rv;
            }
            foreach (var o in initial)
            {
                await WriteChunkAsync(stream, new JsonObject { ["type"] = "ADDED", ["object"] = o });
            }
        }
        try
        {
            while (!deadline.IsCancellationRequested)
            {
                List<(long Rv, string Type, JsonObject Obj)> pending;
                Task changed;
                lock (_gate)
                {
                    pending = _events.Where(e => e.Rv > from && e.Collection == collection && Matches(e.Obj, query)).Select(e => (e.Rv, e.Type, e.Obj)).ToList();
                    from = Math.Max(from, _rv);
                    changed = _changed.Task;
                }
                foreach (var e in pending)
                {
                    await WriteChunkAsync(stream, new JsonObject { ["type"] = e.Type, ["object"] = e.Obj.DeepClone() });
                }
                await changed.WaitAsync(deadline.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
        await stream.FlushAsync();
    }

    private static async Task WriteChunkAsync(Stream stream, JsonObject ev)
    {
        var bytes = Encoding.UTF8.GetBytes(ev.ToJsonString() + "\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(bytes.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
        await stream.WriteAsync(bytes);
        await stream.WriteAsync("\r\n"u8.ToArray());
        await stream.FlushAsync();
    }

    // ---- the controller --------------------------------------------------------------------------------------------

    private void AfterWrite(string plural, string ns, string name, JsonObject? old, JsonObject updated)
    {
        if (plural is "deployments" or "statefulsets" or "daemonsets"
            && old?["metadata"]?["generation"]?.GetValue<long>() != updated["metadata"]?["generation"]?.GetValue<long>())
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(ControllerDelay);
                Reconcile(plural, ns, name, immediate: false);
            });
        }
        if (plural == "externalsecrets"
            && old?["metadata"]?["annotations"]?["force-sync"]?.ToJsonString() != updated["metadata"]?["annotations"]?["force-sync"]?.ToJsonString()
            && !StuckExternalSecrets.ContainsKey(ns + "/" + name))
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(ControllerDelay);
                lock (_gate)
                {
                    if (!_objects.TryGetValue(Key(plural, ns, name), out var es))
                    {
                        return;
                    }
                    var failing = FailingExternalSecrets.ContainsKey(ns + "/" + name);
                    var now = Rfc3339(DateTimeOffset.UtcNow);
                    var status = new JsonObject
                    {
                        ["conditions"] = new JsonArray(new JsonObject
                        {
                            ["type"] = "Ready",
                            ["status"] = failing ? "False" : "True",
                            ["reason"] = failing ? "SecretSyncedError" : "SecretSynced",
                            ["message"] = failing ? "could not get secret data from provider" : "secret synced",
                            ["lastTransitionTime"] = now,
                        }),
                    };
                    status["refreshTime"] = failing ? es["status"]?["refreshTime"]?.DeepClone() : now;
                    es["status"] = status;
                    Store(plural, ns, es, "MODIFIED", "external-secrets", "Update");
                }
            });
        }
    }

    private void Reconcile(string plural, string ns, string name, bool immediate)
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue(Key(plural, ns, name), out var w))
            {
                return;
            }
            var generation = w["metadata"]!["generation"]!.GetValue<long>();
            var replicas = plural == "daemonsets" ? 2 : w["spec"]!["replicas"]?.GetValue<int>() ?? 1;
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(w["spec"]!["template"]!.ToJsonString()))).ToLowerInvariant()[..10];
            var stall = StalledWorkloads.TryGetValue(ns + "/" + name, out var reason) && !immediate;
            var oldPods = _objects.Where(kv => kv.Key.StartsWith("pods/" + ns + "/", StringComparison.Ordinal)
                && kv.Value["metadata"]?["labels"]?["app"]?.GetValue<string>() == name).ToList();
            if (stall)
            {
                var pod = NewPod(plural, w, ns, name, hash, -1);
                var cs = (JsonObject)pod["status"]!["containerStatuses"]![0]!;
                cs["ready"] = false;
                cs["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = reason, ["message"] = "back-off 5m0s restarting failed container" } };
                cs["restartCount"] = 7;
                pod["status"]!["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "False", ["reason"] = "ContainersNotReady" });
                Store("pods", ns, pod, "ADDED", "kubelet", "Update");
                w["status"] = WorkloadStatus(plural, generation, replicas, updated: 1, available: replicas, total: replicas + 1, hash, stalled: true);
                Store(plural, ns, w, "MODIFIED", "controller", "Update");
                return;
            }
            if (!immediate)
            {
                // Step one: part of the new pods are up; step two (after the delay): done. Watchers see both.
                w["status"] = WorkloadStatus(plural, generation, replicas, updated: Math.Max(1, replicas / 2), available: replicas - 1, total: replicas + 1, hash, stalled: false);
                Store(plural, ns, w, "MODIFIED", "controller", "Update");
                _ = Task.Run(async () =>
                {
                    await Task.Delay(ControllerDelay);
                    Reconcile(plural, ns, name, immediate: true);
                });
                return;
            }
            foreach (var (key, pod) in oldPods)
            {
                _objects.Remove(key);
                Emit("pods", ns, "DELETED", pod);
            }
            for (var i = 0; i < replicas; i++)
            {
                Store("pods", ns, NewPod(plural, w, ns, name, hash, i), "ADDED", "kubelet", "Update");
            }
            w["status"] = WorkloadStatus(plural, generation, replicas, replicas, replicas, replicas, hash, stalled: false);
            Store(plural, ns, w, "MODIFIED", "controller", "Update");
        }
    }

    private JsonObject NewPod(string plural, JsonObject w, string ns, string name, string hash, int ordinal)
    {
        var seq = Interlocked.Increment(ref _podSeq);
        var podName = plural switch
        {
            "statefulsets" => $"{name}-{(ordinal < 0 ? 0 : ordinal)}",
            "daemonsets" => $"{name}-{seq:x5}",
            _ => $"{name}-{hash}-{seq:x5}",
        };
        var labels = (JsonObject)w["spec"]!["template"]!["metadata"]!["labels"]!.DeepClone();
        JsonObject owner;
        if (plural == "deployments")
        {
            labels["pod-template-hash"] = hash;
            owner = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = $"{name}-{hash}", ["controller"] = true };
        }
        else
        {
            owner = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = KindOf(plural), ["name"] = name, ["controller"] = true };
        }
        var now = Rfc3339(DateTimeOffset.UtcNow);
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = podName,
                ["namespace"] = ns,
                ["uid"] = Guid.NewGuid().ToString(),
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(owner),
                ["creationTimestamp"] = now,
            },
            ["spec"] = w["spec"]!["template"]!["spec"]!.DeepClone(),
            ["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["startTime"] = now,
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
                ["containerStatuses"] = new JsonArray(new JsonObject
                {
                    ["name"] = "app",
                    ["ready"] = true,
                    ["restartCount"] = 0,
                    ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = now } },
                }),
            },
        };
    }

    private static JsonObject WorkloadStatus(string plural, long generation, int replicas, int updated, int available, int total, string hash, bool stalled) => plural switch
    {
        "daemonsets" => new JsonObject
        {
            ["observedGeneration"] = generation,
            ["desiredNumberScheduled"] = replicas,
            ["currentNumberScheduled"] = replicas,
            ["updatedNumberScheduled"] = updated,
            ["numberAvailable"] = available,
            ["numberReady"] = available,
        },
        "statefulsets" => new JsonObject
        {
            ["observedGeneration"] = generation,
            ["replicas"] = replicas,
            ["readyReplicas"] = stalled ? replicas - 1 : available,
            ["availableReplicas"] = available,
            ["updatedReplicas"] = updated,
            ["currentRevision"] = updated == replicas ? $"r-{hash}" : "r-old",
            ["updateRevision"] = $"r-{hash}",
        },
        _ => new JsonObject
        {
            ["observedGeneration"] = generation,
            ["replicas"] = total,
            ["updatedReplicas"] = updated,
            ["readyReplicas"] = available,
            ["availableReplicas"] = available,
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Progressing",
                ["status"] = "True",
                ["reason"] = updated == replicas && total == replicas ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
            }),
        },
    };

    // ---- helpers -------------------------------------------------------------------------------------------------

    internal static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>RFC 7386 merge patch (strategic merge on the maps Rotation and kubectl rollout touch is the same).</summary>
    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject po)
        {
            return patch?.DeepClone();
        }
        var to = target as JsonObject ?? new JsonObject();
        foreach (var (k, v) in po)
        {
            if (v is null)
            {
                to.Remove(k);
            }
            else
            {
                to[k] = MergePatch(to[k]?.DeepClone(), v);
            }
        }
        return to;
    }

    private static JsonObject YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (JsonObject)Convert(stream.Documents[0].RootNode)!;

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
            YamlSequenceNode s => new JsonArray(s.Children.Select(Convert).ToArray()),
            YamlScalarNode sc when sc.Style is YamlDotNet.Core.ScalarStyle.Plain && long.TryParse(sc.Value, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            YamlScalarNode sc when sc.Style is YamlDotNet.Core.ScalarStyle.Plain && sc.Value is "true" or "false" => JsonValue.Create(sc.Value == "true"),
            YamlScalarNode sc when sc.Style is YamlDotNet.Core.ScalarStyle.Plain && sc.Value is "null" or "~" => null,
            YamlScalarNode sc => JsonValue.Create(sc.Value),
            _ => null,
        };
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fake-kube-apiserver", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }
        Certificate?.Dispose();
        _stop.Dispose();
    }
}

public sealed record RecordedRequest(string Method, string Target, string? ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Target.Split('?')[0];
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Rotation.Core.Tests.Stores.Fakes;

/// <summary>
/// Vault's KV v2 HTTP API, the paths the store uses, shaped after the request and response samples of
/// https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2 (read/create secret version with options.cas,
/// read/create metadata with custom_metadata, delete and undelete versions), plus the logins of
/// https://developer.hashicorp.com/vault/api-docs/auth/approle#login-with-approle and
/// https://developer.hashicorp.com/vault/api-docs/auth/kubernetes#login, and token lookup-self
/// (https://developer.hashicorp.com/vault/api-docs/auth/token#lookup-a-token-self). As real Vault does, a bad token is a
/// 403 "permission denied", a cas mismatch a 400 "check-and-set parameter did not match the current version", and a
/// missing secret a 404 with an empty errors list. Tokens are valid in one namespace (X-Vault-Namespace).
/// </summary>
public sealed class VaultKvFake : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private VaultKvFake(FakeHttpServer server) => Server = server;

    public FakeHttpServer Server { get; }

    public HashSet<string> Mounts { get; } = ["secret", "kv"];

    /// <summary>Valid tokens and the namespace each belongs to ("" = root).</summary>
    public Dictionary<string, string> Tokens { get; } = new() { ["root-token"] = "" };

    /// <summary>Tokens that are valid but whose policy grants nothing on the KV mounts.</summary>
    public HashSet<string> PolicyDenied { get; } = [];

    /// <summary>AppRole credentials: role_id → secret_id.</summary>
    public Dictionary<string, string> AppRoles { get; } = new();

    /// <summary>Kubernetes roles: role → the service-account JWT it accepts.</summary>
    public Dictionary<string, string> KubernetesRoles { get; } = new();

    public static async Task<VaultKvFake> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        VaultKvFake? fake = null;
        var server = await FakeHttpServer.StartAsync(c => fake!.HandleAsync(c), certificate);
        fake = new VaultKvFake(server);
        return fake;
    }

    public IReadOnlyDictionary<string, string> CustomMetadata(string ns, string mount, string path)
    {
        lock (_gate)
        {
            return new Dictionary<string, string>(_entries[Key(ns, mount, path)].Custom);
        }
    }

    public bool IsDeleted(string ns, string mount, string path, int version)
    {
        lock (_gate)
        {
            return _entries[Key(ns, mount, path)].Versions[version - 1].DeletionTime is not null;
        }
    }

    /// <summary>Soft-deletes a version behind the client's back (an operator with 'vault kv delete -versions').</summary>
    public void SoftDelete(string ns, string mount, string path, int version)
    {
        lock (_gate)
        {
            _entries[Key(ns, mount, path)].Versions[version - 1].DeletionTime = DateTimeOffset.UtcNow;
        }
    }

    public IReadOnlyDictionary<string, JsonNode?> Data(string ns, string mount, string path, int version)
    {
        lock (_gate)
        {
            return _entries[Key(ns, mount, path)].Versions[version - 1].Data.ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        JsonNode? body = null;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            var text = await reader.ReadToEndAsync();
            body = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        var ns = request.Headers["X-Vault-Namespace"].ToString().Trim('/');
        var path = Uri.UnescapeDataString(request.Path.Value ?? string.Empty);
        var (status, reply) = Dispatch(request.Method, path, request.Query, request.Headers["X-Vault-Token"].ToString(), ns, body);
        context.Response.StatusCode = status;
        if (reply is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.ToJsonString());
        }
    }

    private (int, JsonNode?) Dispatch(string method, string path, IQueryCollection query, string token, string ns, JsonNode? body)
    {
        lock (_gate)
        {
            if (method == "POST" && path == "/v1/auth/approle/login")
            {
                var role = (string?)body?["role_id"];
                return role is not null && AppRoles.TryGetValue(role, out var secret) && secret == (string?)body?["secret_id"]
                    ? Login(ns)
                    : Errors(400, "invalid role or secret ID");
            }
            if (method == "POST" && path == "/v1/auth/kubernetes/login")
            {
                var role = (string?)body?["role"];
                return role is not null && KubernetesRoles.TryGetValue(role, out var jwt) && jwt == (string?)body?["jwt"]
                    ? Login(ns)
                    : Errors(403, "permission denied");
            }
            if (!Tokens.TryGetValue(token, out var tokenNs) || tokenNs != ns)
            {
                return Errors(403, "permission denied");
            }
            if (path == "/v1/auth/token/lookup-self")
            {
                return (200, new JsonObject { ["data"] = new JsonObject { ["id"] = token, ["policies"] = new JsonArray("default"), ["namespace_path"] = ns } });
            }
            var parts = path.Split('/', 4);
            if (parts.Length < 4 || parts[0] != "" || parts[1] != "v1" || !Mounts.Contains(parts[2]))
            {
                return Errors(404, "no handler for route \"" + path + "\". route entry not found.");
            }
            if (PolicyDenied.Contains(token))
            {
                return Errors(403, "1 error occurred:\n\t* permission denied\n\n");
            }
            var mount = parts[2];
            var rest = parts[3];
            var slash = rest.IndexOf('/');
            if (slash <= 0)
            {
                return Errors(404, "no handler for route");
            }
            var kind = rest[..slash];
            var key = Key(ns, mount, rest[(slash + 1)..]);
            _entries.TryGetValue(key, out var entry);
            switch (kind, method)
            {
                case ("data", "GET"):
                {
                    if (entry is null || entry.Versions.Count == 0)
                    {
                        return Errors(404);
                    }
                    var n = query.TryGetValue("version", out var v) && int.Parse(v!, CultureInfo.InvariantCulture) is > 0 and var x ? x : entry.Versions.Count;
                    if (n > entry.Versions.Count)
                    {
                        return Errors(404);
                    }
                    var version = entry.Versions[n - 1];
                    var meta = VersionMetadata(entry, version, n);
                    if (version.DeletionTime is not null || version.Destroyed)
                    {
                        // Real Vault answers a deleted version with 404 and its metadata, data null.
                        return (404, new JsonObject { ["data"] = new JsonObject { ["data"] = null, ["metadata"] = meta } });
                    }
                    return (200, new JsonObject { ["data"] = new JsonObject { ["data"] = new JsonObject(version.Data.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))), ["metadata"] = meta } });
                }
                case ("data", "POST" or "PUT"):
                {
                    if (body?["data"] is not JsonObject data)
                    {
                        return Errors(400, "no data provided");
                    }
                    var current = entry?.Versions.Count ?? 0;
                    if (body["options"]?["cas"] is { } cas && cas.GetValue<long>() != current)
                    {
                        return Errors(400, "check-and-set parameter did not match the current version");
                    }
                    entry ??= _entries[key] = new Entry();
                    var version = new FakeVersion { Data = data.ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone()) };
                    entry.Versions.Add(version);
                    entry.UpdatedTime = version.CreatedTime;
                    return (200, new JsonObject { ["data"] = VersionMetadata(entry, version, entry.Versions.Count) });
                }
                case ("metadata", "GET"):
                {
                    if (entry is null)
                    {
                        return Errors(404);
                    }
                    var versions = new JsonObject();
                    for (var i = 0; i < entry.Versions.Count; i++)
                    {
                        var fv = entry.Versions[i];
                        versions[(i + 1).ToString(CultureInfo.InvariantCulture)] = new JsonObject
                        {
                            ["created_time"] = Time(fv.CreatedTime),
                            ["deletion_time"] = fv.DeletionTime is { } d ? Time(d) : "",
                            ["destroyed"] = fv.Destroyed,
                        };
                    }
                    return (200, new JsonObject
                    {
                        ["data"] = new JsonObject
                        {
                            ["cas_required"] = false,
                            ["created_time"] = Time(entry.CreatedTime),
                            ["current_version"] = entry.Versions.Count,
                            ["delete_version_after"] = "0s",
                            ["max_versions"] = 0,
                            ["oldest_version"] = 0,
                            ["updated_time"] = Time(entry.UpdatedTime),
                            ["custom_metadata"] = entry.Custom.Count == 0 ? null : new JsonObject(entry.Custom.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                            ["versions"] = versions,
                        },
                    });
                }
                case ("metadata", "POST" or "PUT"):
                {
                    entry ??= _entries[key] = new Entry();
                    if (body?["custom_metadata"] is JsonObject custom)
                    {
                        entry.Custom = custom.ToDictionary(kv => kv.Key, kv => kv.Value!.ToString(), StringComparer.Ordinal);
                    }
                    entry.UpdatedTime = DateTimeOffset.UtcNow;
                    return (204, null);
                }
                case ("delete" or "undelete", "POST" or "PUT"):
                {
                    if (entry is not null)
                    {
                        foreach (var n in body?["versions"] as JsonArray ?? [])
                        {
                            var i = n!.GetValue<int>();
                            if (i >= 1 && i <= entry.Versions.Count && !entry.Versions[i - 1].Destroyed)
                            {
                                entry.Versions[i - 1].DeletionTime = kind == "delete" ? entry.Versions[i - 1].DeletionTime ?? DateTimeOffset.UtcNow : null;
                            }
                        }
                    }
                    return (204, null);
                }
                default:
                    return Errors(405, "unsupported operation");
            }
        }
    }

    private (int, JsonNode?) Login(string ns)
    {
        var token = "hvs." + Guid.NewGuid().ToString("N");
        Tokens[token] = ns;
        return (200, new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["client_token"] = token,
                ["accessor"] = Guid.NewGuid().ToString(),
                ["policies"] = new JsonArray("default"),
                ["lease_duration"] = 1200,
                ["renewable"] = true,
            },
        });
    }

    private static JsonObject VersionMetadata(Entry entry, FakeVersion v, int n) => new()
    {
        ["created_time"] = Time(v.CreatedTime),
        ["custom_metadata"] = entry.Custom.Count == 0 ? null : new JsonObject(entry.Custom.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        ["deletion_time"] = v.DeletionTime is { } d ? Time(d) : "",
        ["destroyed"] = v.Destroyed,
        ["version"] = n,
    };

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string Key(string ns, string mount, string path) => ns + "|" + mount + "|" + path;

    private static (int, JsonNode?) Errors(int status, params string[] errors) =>
        (status, new JsonObject { ["errors"] = new JsonArray(errors.Select(e => (JsonNode?)e).ToArray()) });

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private sealed class Entry
    {
        public DateTimeOffset CreatedTime { get; } = DateTimeOffset.UtcNow;
        public DateTimeOffset UpdatedTime { get; set; } = DateTimeOffset.UtcNow;
        public Dictionary<string, string> Custom { get; set; } = new(StringComparer.Ordinal);
        public List<FakeVersion> Versions { get; } = [];
    }

    private sealed class FakeVersion
    {
        public DateTimeOffset CreatedTime { get; } = DateTimeOffset.UtcNow;
        public DateTimeOffset? DeletionTime { get; set; }
        public bool Destroyed { get; set; }
        public required Dictionary<string, JsonNode?> Data { get; init; }
    }
}

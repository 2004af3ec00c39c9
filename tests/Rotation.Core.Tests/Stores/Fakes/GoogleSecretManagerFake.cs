using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Rotation.Core.Stores.Google;

namespace Rotation.Core.Tests.Stores.Fakes;

/// <summary>
/// Secret Manager REST v1, exactly the paths the store and gcloud use: secrets get/create/patch (etag-checked),
/// addVersion (CRC32C-checked, answering clientSpecifiedPayloadChecksum as the real service does), versions
/// list/get/access (by number, alias or latest), disable/enable/destroy, and an OAuth token endpoint for service
/// account keys. Bearer tokens are checked against <see cref="ValidTokens"/>. Held to gcloud in GoogleSecretManagerGcloudTests.
/// </summary>
public sealed partial class GoogleSecretManagerFake : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, FakeSecret> _secrets = new(StringComparer.Ordinal);
    private long _etag;

    private GoogleSecretManagerFake(FakeHttpServer server) => Server = server;

    public FakeHttpServer Server { get; private set; }

    public HashSet<string> ValidTokens { get; } = ["test-token"];

    /// <summary>Tokens that are known but refused with 403 (an identity without access).</summary>
    public HashSet<string> ForbiddenTokens { get; } = [];

    public static async Task<GoogleSecretManagerFake> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        GoogleSecretManagerFake? fake = null;
        var server = await FakeHttpServer.StartAsync(c => fake!.HandleAsync(c), certificate);
        fake = new GoogleSecretManagerFake(server);
        return fake;
    }

    /// <summary>Raw payload bytes of a version (for asserting on what was stored).</summary>
    public byte[] Payload(string project, string secret, string version)
    {
        lock (_gate)
        {
            return _secrets[project + "/" + secret].Versions.Single(v => v.Number.ToString(CultureInfo.InvariantCulture) == version).Data;
        }
    }

    public string VersionState(string project, string secret, string version)
    {
        lock (_gate)
        {
            return _secrets[project + "/" + secret].Versions.Single(v => v.Number.ToString(CultureInfo.InvariantCulture) == version).State;
        }
    }

    /// <summary>Disables a version behind the client's back (an operator in the console).</summary>
    public void Disable(string project, string secret, string version)
    {
        lock (_gate)
        {
            _secrets[project + "/" + secret].Versions.Single(v => v.Number.ToString(CultureInfo.InvariantCulture) == version).State = "DISABLED";
        }
    }

    /// <summary>Whether the client sent payload.dataCrc32c with the version (gcloud and the store both must).</summary>
    public bool HadClientChecksum(string project, string secret, string version)
    {
        lock (_gate)
        {
            return _secrets[project + "/" + secret].Versions.Single(v => v.Number.ToString(CultureInfo.InvariantCulture) == version).ClientChecksum;
        }
    }

    public IReadOnlyDictionary<string, string> Annotations(string project, string secret)
    {
        lock (_gate)
        {
            return new Dictionary<string, string>(_secrets[project + "/" + secret].Annotations);
        }
    }

    /// <summary>Changes the secret's etag behind the client's back (a concurrent writer).</summary>
    public void Touch(string project, string secret)
    {
        lock (_gate)
        {
            _secrets[project + "/" + secret].ETag = NextETag();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path == "/token" && request.Method == "POST")
        {
            var form = await request.ReadFormAsync();
            var token = "sa-" + Guid.NewGuid().ToString("N");
            lock (_gate)
            {
                ValidTokens.Add(token);
            }
            await Reply(context, 200, new JsonObject { ["access_token"] = token, ["expires_in"] = 3600, ["token_type"] = "Bearer", ["grant"] = (string?)form["grant_type"] });
            return;
        }
        var auth = request.Headers.Authorization.ToString();
        var bearer = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null;
        bool valid, forbidden;
        lock (_gate)
        {
            valid = bearer is not null && ValidTokens.Contains(bearer);
            forbidden = bearer is not null && ForbiddenTokens.Contains(bearer);
        }
        if (forbidden)
        {
            await Error(context, 403, "PERMISSION_DENIED", "Permission 'secretmanager.secrets.get' denied for resource (or it may not exist).");
            return;
        }
        if (!valid)
        {
            await Error(context, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
            return;
        }
        var path = Uri.UnescapeDataString(request.Path.Value ?? string.Empty);
        JsonNode? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            body = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        var (status, reply) = Dispatch(request.Method, path, request.Query, body);
        await Reply(context, status, reply);
    }

    private (int, JsonNode) Dispatch(string method, string path, IQueryCollection query, JsonNode? body)
    {
        lock (_gate)
        {
            Match m;
            if (method == "POST" && (m = SecretsRegex().Match(path)).Success)
            {
                var id = query["secretId"].ToString();
                var key = m.Groups["p"].Value + "/" + id;
                if (_secrets.ContainsKey(key))
                {
                    return Err(409, "ALREADY_EXISTS", $"Secret [projects/{m.Groups["p"].Value}/secrets/{id}] already exists.");
                }
                var s = new FakeSecret { Project = m.Groups["p"].Value, Id = id, ETag = NextETag() };
                foreach (var (k, v) in body?["annotations"] as JsonObject ?? [])
                {
                    s.Annotations[k] = v!.ToString();
                }
                _secrets[key] = s;
                return (200, SecretJson(s));
            }
            if ((m = SecretRegex().Match(path)).Success)
            {
                if (!_secrets.TryGetValue(m.Groups["p"].Value + "/" + m.Groups["s"].Value, out var s))
                {
                    return Err(404, "NOT_FOUND", $"Secret [projects/{m.Groups["p"].Value}/secrets/{m.Groups["s"].Value}] not found or has no versions.");
                }
                var action = m.Groups["a"].Value;
                return (method, action) switch
                {
                    ("GET", "") => (200, SecretJson(s)),
                    ("PATCH", "") => Patch(s, query["updateMask"].ToString(), body),
                    ("POST", ":addVersion") => AddVersion(s, body),
                    _ => Err(404, "NOT_FOUND", "Unknown method."),
                };
            }
            if ((m = VersionsRegex().Match(path)).Success)
            {
                if (!_secrets.TryGetValue(m.Groups["p"].Value + "/" + m.Groups["s"].Value, out var s))
                {
                    return Err(404, "NOT_FOUND", $"Secret [projects/{m.Groups["p"].Value}/secrets/{m.Groups["s"].Value}] not found or has no versions.");
                }
                if (!m.Groups["v"].Success)
                {
                    var list = new JsonArray();
                    foreach (var v in s.Versions.OrderByDescending(v => v.Number))
                    {
                        list.Add(VersionJson(s, v));
                    }
                    return (200, new JsonObject { ["versions"] = list, ["totalSize"] = s.Versions.Count });
                }
                var version = Resolve(s, m.Groups["v"].Value);
                if (version is null)
                {
                    return Err(404, "NOT_FOUND", $"Secret Version [projects/{s.Project}/secrets/{s.Id}/versions/{m.Groups["v"].Value}] not found.");
                }
                switch (method, m.Groups["a"].Value)
                {
                    case ("GET", ""):
                        return (200, VersionJson(s, version));
                    case ("GET", ":access"):
                        if (version.State != "ENABLED")
                        {
                            return Err(400, "FAILED_PRECONDITION", $"Secret Version [projects/{s.Project}/secrets/{s.Id}/versions/{version.Number}] is in {version.State} state.");
                        }
                        return (200, new JsonObject
                        {
                            ["name"] = VersionName(s, version),
                            ["payload"] = new JsonObject
                            {
                                ["data"] = Convert.ToBase64String(version.Data),
                                ["dataCrc32c"] = Crc32C.Compute(version.Data).ToString(CultureInfo.InvariantCulture),
                            },
                        });
                    case ("POST", ":disable"):
                    case ("POST", ":enable"):
                    case ("POST", ":destroy"):
                        if (version.State == "DESTROYED")
                        {
                            return Err(400, "FAILED_PRECONDITION", $"Secret Version [{VersionName(s, version)}] is in DESTROYED state.");
                        }
                        version.State = m.Groups["a"].Value switch { ":disable" => "DISABLED", ":enable" => "ENABLED", _ => "DESTROYED" };
                        if (version.State == "DESTROYED")
                        {
                            version.Data = [];
                        }
                        return (200, VersionJson(s, version));
                    default:
                        return Err(404, "NOT_FOUND", "Unknown method.");
                }
            }
            return Err(404, "NOT_FOUND", "Unknown path " + path);
        }
    }

    private (int, JsonNode) Patch(FakeSecret s, string updateMask, JsonNode? body)
    {
        if (body?["etag"] is { } etag && etag.ToString() != s.ETag)
        {
            // AIP-154: a stale etag is ABORTED (HTTP 409).
            return Err(409, "ABORTED", $"The etag provided does not match the etag of Secret [projects/{s.Project}/secrets/{s.Id}].");
        }
        foreach (var field in updateMask.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (field)
            {
                case "annotations":
                    s.Annotations.Clear();
                    foreach (var (k, v) in body?["annotations"] as JsonObject ?? [])
                    {
                        s.Annotations[k] = v!.ToString();
                    }
                    break;
                case "versionAliases":
                    var aliases = new Dictionary<string, long>(StringComparer.Ordinal);
                    foreach (var (k, v) in body?["versionAliases"] as JsonObject ?? [])
                    {
                        var n = long.Parse(v!.ToString(), CultureInfo.InvariantCulture);
                        if (s.Versions.All(x => x.Number != n))
                        {
                            return Err(400, "INVALID_ARGUMENT", $"Alias {k} points at version {n}, which does not exist.");
                        }
                        aliases[k] = n;
                    }
                    s.Aliases = aliases;
                    break;
                default:
                    return Err(400, "INVALID_ARGUMENT", "Unsupported update mask field " + field);
            }
        }
        s.ETag = NextETag();
        return (200, SecretJson(s));
    }

    private (int, JsonNode) AddVersion(FakeSecret s, JsonNode? body)
    {
        var data = Convert.FromBase64String((string?)body?["payload"]?["data"] ?? string.Empty);
        var crcNode = body?["payload"]?["dataCrc32c"];
        if (crcNode is not null && long.Parse(crcNode.ToString(), CultureInfo.InvariantCulture) != Crc32C.Compute(data))
        {
            return Err(400, "INVALID_ARGUMENT", "Checksum mismatch: the payload's data_crc32c does not match its data.");
        }
        var version = new FakeVersion { Number = s.Versions.Count + 1, Data = data, CreateTime = DateTimeOffset.UtcNow, ClientChecksum = crcNode is not null };
        // The secret's etag covers the secret resource (annotations, aliases), not its versions: adding one keeps it.
        s.Versions.Add(version);
        return (200, VersionJson(s, version));
    }

    private static FakeVersion? Resolve(FakeSecret s, string v)
    {
        if (v == "latest")
        {
            return s.Versions.LastOrDefault();
        }
        if (long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return s.Versions.FirstOrDefault(x => x.Number == n);
        }
        return s.Aliases.TryGetValue(v, out var a) ? s.Versions.First(x => x.Number == a) : null;
    }

    private static JsonObject SecretJson(FakeSecret s)
    {
        var annotations = new JsonObject();
        foreach (var (k, v) in s.Annotations)
        {
            annotations[k] = v;
        }
        var aliases = new JsonObject();
        foreach (var (k, v) in s.Aliases)
        {
            aliases[k] = v.ToString(CultureInfo.InvariantCulture);
        }
        return new JsonObject
        {
            ["name"] = $"projects/{s.Project}/secrets/{s.Id}",
            ["replication"] = new JsonObject { ["automatic"] = new JsonObject() },
            ["createTime"] = s.CreateTime.ToString("O", CultureInfo.InvariantCulture),
            ["etag"] = s.ETag,
            ["annotations"] = annotations,
            ["versionAliases"] = aliases,
        };
    }

    private static JsonObject VersionJson(FakeSecret s, FakeVersion v)
    {
        var json = new JsonObject
        {
            ["name"] = VersionName(s, v),
            ["createTime"] = v.CreateTime.ToString("O", CultureInfo.InvariantCulture),
            ["state"] = v.State,
            ["replicationStatus"] = new JsonObject { ["automatic"] = new JsonObject() },
            ["etag"] = $"\"{v.Number}\"",
        };
        if (v.ClientChecksum)
        {
            json["clientSpecifiedPayloadChecksum"] = true;
        }
        return json;
    }

    private static string VersionName(FakeSecret s, FakeVersion v) => $"projects/{s.Project}/secrets/{s.Id}/versions/{v.Number}";

    private string NextETag() => $"\"{Interlocked.Increment(ref _etag):x8}\"";

    private static (int, JsonNode) Err(int code, string status, string message) =>
        (code, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } });

    private static Task Error(HttpContext context, int code, string status, string message) => Reply(context, code, Err(code, status, message).Item2);

    private static async Task Reply(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    [GeneratedRegex("^/v1/projects/(?<p>[^/]+)/secrets$")]
    private static partial Regex SecretsRegex();

    [GeneratedRegex("^/v1/projects/(?<p>[^/]+)/secrets/(?<s>[^/:]+)(?<a>:[A-Za-z]+)?$")]
    private static partial Regex SecretRegex();

    [GeneratedRegex("^/v1/projects/(?<p>[^/]+)/secrets/(?<s>[^/:]+)/versions(/(?<v>[^/:]+)(?<a>:[A-Za-z]+)?)?$")]
    private static partial Regex VersionsRegex();

    private sealed class FakeSecret
    {
        public required string Project { get; init; }
        public required string Id { get; init; }
        public required string ETag { get; set; }
        public DateTimeOffset CreateTime { get; } = DateTimeOffset.UtcNow;
        public Dictionary<string, string> Annotations { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, long> Aliases { get; set; } = new(StringComparer.Ordinal);
        public List<FakeVersion> Versions { get; } = [];
    }

    private sealed class FakeVersion
    {
        public required long Number { get; init; }
        public required byte[] Data { get; set; }
        public required DateTimeOffset CreateTime { get; init; }
        public bool ClientChecksum { get; init; }
        public string State { get; set; } = "ENABLED";
    }
}

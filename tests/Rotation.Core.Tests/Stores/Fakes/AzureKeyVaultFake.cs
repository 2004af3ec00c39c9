using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Rotation.Core.Tests.Stores.Fakes;

/// <summary>
/// Key Vault's secrets REST API over HTTPS, the calls Azure.Security.KeyVault.Secrets 4.12 makes for the store:
/// PUT /secrets/{name}, GET /secrets/{name}/{version}, GET /secrets/{name}/versions, PATCH /secrets/{name}/{version}.
/// It speaks the bearer challenge the SDK expects (PROTOCOL-NOTES.md): a request without a token gets 401 with
/// WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net".
/// Ids are built from the Host header, so the SDK parses name and version from them as from a real vault.
/// </summary>
public sealed partial class AzureKeyVaultFake : IAsyncDisposable
{
    public const string TenantId = "72f988bf-0000-0000-0000-2d7cd011db47";

    private readonly object _gate = new();
    private readonly Dictionary<string, List<FakeVersion>> _secrets = new(StringComparer.OrdinalIgnoreCase);

    private AzureKeyVaultFake(FakeHttpServer server) => Server = server;

    public FakeHttpServer Server { get; }

    public HashSet<string> ValidTokens { get; } = ["kv-token"];

    public HashSet<string> ForbiddenTokens { get; } = [];

    /// <summary>Scopes the SDK asked tokens for (from the challenge).</summary>
    public static async Task<AzureKeyVaultFake> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        AzureKeyVaultFake? fake = null;
        var server = await FakeHttpServer.StartAsync(c => fake!.HandleAsync(c), certificate);
        fake = new AzureKeyVaultFake(server);
        return fake;
    }

    public (bool Enabled, DateTimeOffset? ExpiresOn, DateTimeOffset? NotBefore, IReadOnlyDictionary<string, string> Tags) Version(string name, string version)
    {
        lock (_gate)
        {
            var v = _secrets[name].Single(x => x.Id == version);
            return (v.Enabled, v.Expires, v.NotBefore, new Dictionary<string, string>(v.Tags));
        }
    }

    /// <summary>Disables a version behind the client's back (an operator in the portal).</summary>
    public void Disable(string name, string version)
    {
        lock (_gate)
        {
            _secrets[name].Single(x => x.Id == version).Enabled = false;
        }
    }

    public IReadOnlyList<string> Versions(string name)
    {
        lock (_gate)
        {
            return _secrets.TryGetValue(name, out var list) ? list.Select(v => v.Id).ToList() : [];
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            await Challenge(context, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            return;
        }
        var token = auth[7..];
        bool valid, forbidden;
        lock (_gate)
        {
            valid = ValidTokens.Contains(token);
            forbidden = ForbiddenTokens.Contains(token);
        }
        if (forbidden)
        {
            await Reply(context, 403, Error("Forbidden", "The user, group or application does not have secrets get permission on key vault. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287", "AccessDenied"));
            return;
        }
        if (!valid)
        {
            await Challenge(context, "Unauthorized", "AKV10032: Invalid issuer or the token has expired.");
            return;
        }
        string text;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            text = await reader.ReadToEndAsync();
        }
        var body = text.Length > 0 ? JsonNode.Parse(text) : null;
        var baseUri = $"https://{request.Host}";
        var (status, reply) = Dispatch(request.Method, request.Path.Value ?? "", body, baseUri);
        await Reply(context, status, reply);
    }

    private (int, JsonNode) Dispatch(string method, string path, JsonNode? body, string baseUri)
    {
        lock (_gate)
        {
            var m = SecretRegex().Match(path);
            if (!m.Success)
            {
                return (400, Error("BadParameter", "Unsupported path " + path));
            }
            var name = m.Groups["n"].Value;
            var tail = m.Groups["v"].Success ? m.Groups["v"].Value : null;
            _secrets.TryGetValue(name, out var versions);
            switch (method, tail)
            {
                case ("PUT", null):
                {
                    var now = DateTimeOffset.UtcNow;
                    var v = new FakeVersion
                    {
                        Id = Guid.NewGuid().ToString("N"),
                        Value = (string?)body?["value"] ?? "",
                        ContentType = (string?)body?["contentType"],
                        Created = now,
                        Updated = now,
                    };
                    ApplyAttributes(v, body);
                    if (versions is null)
                    {
                        _secrets[name] = versions = [];
                    }
                    versions.Add(v);
                    return (200, Bundle(baseUri, name, v, withValue: true));
                }
                case ("GET", "versions"):
                {
                    if (versions is null)
                    {
                        return (404, Error("SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"));
                    }
                    var list = new JsonArray();
                    foreach (var v in versions)
                    {
                        list.Add(Bundle(baseUri, name, v, withValue: false));
                    }
                    return (200, new JsonObject { ["value"] = list, ["nextLink"] = null });
                }
                case ("GET", _):
                {
                    var v = Find(versions, tail!);
                    if (v is null)
                    {
                        return (404, Error("SecretNotFound", $"A secret with (name/id) {name}/{tail} was not found in this key vault."));
                    }
                    if (!v.Enabled)
                    {
                        return (403, Error("Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"));
                    }
                    return (200, Bundle(baseUri, name, v, withValue: true));
                }
                case ("PATCH", _):
                {
                    var v = Find(versions, tail!);
                    if (v is null)
                    {
                        return (404, Error("SecretNotFound", $"A secret with (name/id) {name}/{tail} was not found in this key vault."));
                    }
                    ApplyAttributes(v, body);
                    if (body?["contentType"] is { } ct)
                    {
                        v.ContentType = (string?)ct;
                    }
                    v.Updated = DateTimeOffset.UtcNow;
                    return (200, Bundle(baseUri, name, v, withValue: false));
                }
                default:
                    return (405, Error("BadParameter", "Unsupported method."));
            }
        }
    }

    private static FakeVersion? Find(List<FakeVersion>? versions, string id) =>
        id.Length == 0 ? versions?.LastOrDefault() : versions?.FirstOrDefault(v => v.Id == id);

    private static void ApplyAttributes(FakeVersion v, JsonNode? body)
    {
        if (body?["attributes"] is JsonObject a)
        {
            if (a["enabled"] is { } e)
            {
                v.Enabled = e.GetValue<bool>();
            }
            if (a.ContainsKey("exp"))
            {
                v.Expires = a["exp"] is { } x ? DateTimeOffset.FromUnixTimeSeconds(x.GetValue<long>()) : null;
            }
            if (a.ContainsKey("nbf"))
            {
                v.NotBefore = a["nbf"] is { } x ? DateTimeOffset.FromUnixTimeSeconds(x.GetValue<long>()) : null;
            }
        }
        if (body?["tags"] is JsonObject tags)
        {
            v.Tags = tags.ToDictionary(kv => kv.Key, kv => kv.Value!.ToString(), StringComparer.Ordinal);
        }
    }

    private static JsonObject Bundle(string baseUri, string name, FakeVersion v, bool withValue)
    {
        var attributes = new JsonObject
        {
            ["enabled"] = v.Enabled,
            ["created"] = v.Created.ToUnixTimeSeconds(),
            ["updated"] = v.Updated.ToUnixTimeSeconds(),
            ["recoveryLevel"] = "Recoverable+Purgeable",
            ["recoverableDays"] = 90,
        };
        if (v.Expires is { } exp)
        {
            attributes["exp"] = exp.ToUnixTimeSeconds();
        }
        if (v.NotBefore is { } nbf)
        {
            attributes["nbf"] = nbf.ToUnixTimeSeconds();
        }
        var json = new JsonObject
        {
            ["id"] = $"{baseUri}/secrets/{name}/{v.Id}",
            ["attributes"] = attributes,
            ["tags"] = new JsonObject(v.Tags.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        };
        if (v.ContentType is not null)
        {
            json["contentType"] = v.ContentType;
        }
        if (withValue)
        {
            json["value"] = v.Value;
        }
        return json;
    }

    private static async Task Challenge(HttpContext context, string code, string message)
    {
        context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/{TenantId}\", resource=\"https://vault.azure.net\"";
        await Reply(context, 401, Error(code, message));
    }

    private static JsonObject Error(string code, string message, string? inner = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (inner is not null)
        {
            error["innererror"] = new JsonObject { ["code"] = inner };
        }
        return new JsonObject { ["error"] = error };
    }

    private static async Task Reply(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    [GeneratedRegex("^/secrets/(?<n>[0-9a-zA-Z-]+)(/(?<v>[0-9a-zA-Z]*))?/?$")]
    private static partial Regex SecretRegex();

    private sealed class FakeVersion
    {
        public required string Id { get; init; }
        public required string Value { get; init; }
        public string? ContentType { get; set; }
        public bool Enabled { get; set; } = true;
        public DateTimeOffset Created { get; init; }
        public DateTimeOffset Updated { get; set; }
        public DateTimeOffset? Expires { get; set; }
        public DateTimeOffset? NotBefore { get; set; }
        public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);
    }
}

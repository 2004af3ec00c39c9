using System.Net;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Stores.Staging;

namespace Rotation.Core.Stores.Vault;

/// <summary>
/// Where a Vault token comes from, in order: VAULT_TOKEN; AppRole login (VAULT_ROLE_ID and VAULT_SECRET_ID, mount
/// VAULT_APPROLE_MOUNT or "approle"); Kubernetes login (VAULT_K8S_ROLE with the pod's service-account JWT from
/// VAULT_K8S_TOKEN_PATH or the standard path, mount VAULT_K8S_MOUNT or "kubernetes"); the CLI's ~/.vault-token.
/// Logins follow Vault's auth API: POST /v1/auth/&lt;mount&gt;/login, token in auth.client_token
/// (https://developer.hashicorp.com/vault/api-docs/auth/approle#login-with-approle,
///  https://developer.hashicorp.com/vault/api-docs/auth/kubernetes#login).
/// </summary>
internal sealed class VaultTokens
{
    public const string DefaultServiceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    public const string AuthHint = "set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole, or VAULT_K8S_ROLE for Kubernetes auth, " +
        "or log in with 'vault login' (which writes ~/.vault-token).";

    private readonly StoreContext _context;
    private readonly string _target;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;

    public VaultTokens(StoreContext context, string target)
    {
        _context = context;
        _target = target;
    }

    /// <summary>How the token was obtained, for error messages (never the token).</summary>
    public string Method { get; private set; } = "none";

    public async Task<string> GetAsync(StoreHttp http, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _token ??= await ResolveAsync(http, headers, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> ResolveAsync(StoreHttp http, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        if (Env("VAULT_TOKEN") is { } token)
        {
            Method = "VAULT_TOKEN";
            return token;
        }
        if (Env("VAULT_ROLE_ID") is { } roleId)
        {
            Method = "AppRole login";
            var secretId = Env("VAULT_SECRET_ID");
            var body = new JsonObject { ["role_id"] = roleId };
            if (secretId is not null)
            {
                body["secret_id"] = secretId;
            }
            return await LoginAsync(http, headers, Env("VAULT_APPROLE_MOUNT") ?? "approle", body, cancellationToken).ConfigureAwait(false);
        }
        if (Env("VAULT_K8S_ROLE") is { } role)
        {
            Method = "Kubernetes login";
            var path = Env("VAULT_K8S_TOKEN_PATH") ?? DefaultServiceAccountTokenPath;
            string jwt;
            try
            {
                jwt = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Failed($"the service account token '{path}' could not be read ({e.Message})", e);
            }
            return await LoginAsync(http, headers, Env("VAULT_K8S_MOUNT") ?? "kubernetes", new JsonObject { ["role"] = role, ["jwt"] = jwt }, cancellationToken).ConfigureAwait(false);
        }
        var home = Env("HOME") ?? Env("USERPROFILE");
        var file = home is null ? null : Path.Combine(home, ".vault-token");
        if (file is not null && File.Exists(file))
        {
            Method = "~/.vault-token";
            return (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
        }
        throw Failed("no token was found", null);
    }

    private async Task<string> LoginAsync(StoreHttp http, IReadOnlyDictionary<string, string> headers, string mount, JsonObject body, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(HttpMethod.Post, $"v1/auth/{mount.Trim('/')}/login", body, idempotent: true, cancellationToken, headers, authorize: false).ConfigureAwait(false);
        if (response.IsSuccess && response.Json()?["auth"]?["client_token"] is JsonValue t && t.ToString() is { Length: > 0 } token)
        {
            return token;
        }
        if (response.Status is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized or HttpStatusCode.OK)
        {
            throw Failed($"{Method} at auth/{mount} was refused (HTTP {(int)response.Status}: {response.ServerMessage()})", null);
        }
        throw http.Fail(response, $"log in ({Method}) for");
    }

    private RotationException Failed(string detail, Exception? inner) =>
        new(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, _target,
            $"No Vault token could be obtained for '{_target}': {detail}. To fix: {AuthHint}", inner);

    private string? Env(string name) => _context.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores.Staging;

namespace Rotation.Core.Stores.Vault;

/// <summary>
/// <c>vault://&lt;mount&gt;/&lt;path&gt;[#field]</c>: HashiCorp Vault KV version 2 over its HTTP API
/// (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2).
/// A KV v2 version is natively a map of fields: a map is stored as is, a single string as the one field <c>value</c>
/// (and a version holding only a string field <c>value</c> reads back as that string). Versions are written with
/// options.cas set to the version last read, so of two concurrent writers exactly one wins. Stage labels and the
/// lease live in the secret's custom_metadata (<c>rotation-*</c> keys, other keys kept). Versions that lose every
/// label are soft-deleted (POST &lt;mount&gt;/delete/&lt;path&gt;; recoverable with undelete), never destroyed.
/// Server: VAULT_ADDR (or the -Endpoint); namespace: VAULT_NAMESPACE as X-Vault-Namespace; token: see VaultTokens.
/// </summary>
internal sealed class VaultKvStore : LedgerSecretStore
{
    public const string DefaultAddress = "https://127.0.0.1:8200";
    public const string SingleValueField = "value";
    private const string Service = "Vault";

    private readonly StoreHttp _http;
    private readonly VaultTokens _tokens;
    private readonly Dictionary<string, string> _headers = new(StringComparer.Ordinal);
    private readonly string _dataPath;
    private readonly string _metadataPath;
    private readonly string _deletePath;
    private readonly string _undeletePath;

    public VaultKvStore(SecretStoreUri uri, StoreContext context)
        : base(uri, context)
    {
        var address = context.Endpoint ?? StoreJson.Env(context, "VAULT_ADDR") ?? DefaultAddress;
        if (!System.Uri.TryCreate(address.EndsWith('/') ? address : address + "/", UriKind.Absolute, out var baseAddress))
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"The Vault address '{address}' is not an absolute URL (VAULT_ADDR or -Endpoint).");
        }
        if (StoreJson.Env(context, "VAULT_NAMESPACE") is { } ns)
        {
            _headers["X-Vault-Namespace"] = ns;
        }
        _tokens = new VaultTokens(context, uri.Original);
        if (context.HttpHandlerFactory is null && StoreJson.Env(context, "VAULT_CACERT") is { } caFile)
        {
            context = context.WithHandler(TrustingHandler(caFile, uri.Original));
        }
        _http = new StoreHttp(baseAddress, context, uri.Original, Service,
            async (request, ct) => request.Headers.TryAddWithoutValidation("X-Vault-Token", await _tokens.GetAsync(_http!, _headers, ct).ConfigureAwait(false)),
            VaultTokens.AuthHint);
        var mount = Escape(uri.Authority);
        var path = Escape(uri.Path);
        _dataPath = $"v1/{mount}/data/{path}";
        _metadataPath = $"v1/{mount}/metadata/{path}";
        _deletePath = $"v1/{mount}/delete/{path}";
        _undeletePath = $"v1/{mount}/undelete/{path}";
    }

    protected override async Task<LedgerSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, _metadataPath, null, idempotent: true, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return LedgerSnapshot.Missing;
        }
        var data = (await OkAsync(response, "read the metadata of", cancellationToken).ConfigureAwait(false))["data"];
        var custom = StoreJson.StringMap(data?["custom_metadata"]);
        var versions = new List<BackendVersion>();
        foreach (var (number, v) in data?["versions"] as JsonObject ?? [])
        {
            var deleted = ((string?)v?["deletion_time"]) is { Length: > 0 };
            var destroyed = v?["destroyed"]?.GetValue<bool>() == true;
            versions.Add(new BackendVersion(number, StoreJson.ParseTime((string?)v?["created_time"]), !deleted && !destroyed));
        }
        versions.Sort((a, b) => long.Parse(a.Id, CultureInfo.InvariantCulture).CompareTo(long.Parse(b.Id, CultureInfo.InvariantCulture)));
        return new LedgerSnapshot
        {
            Exists = true,
            Ledger = StageLedger.FromMap(custom, Target),
            Versions = versions,
            Stamp = new MetadataState(data?["current_version"]?.GetValue<long>() ?? 0, custom),
        };
    }

    protected override async Task<string> CommitVersionAsync(SecretValue value, LedgerSnapshot before, Func<string, StageLedger> ledgerFor, CancellationToken cancellationToken)
    {
        var state = before.Stamp as MetadataState ?? new MetadataState(0, new Dictionary<string, string>());
        var data = new JsonObject();
        foreach (var (k, v) in value.IsFields ? value.Fields : new Dictionary<string, string> { [SingleValueField] = value.Text })
        {
            data[k] = v;
        }
        // cas = the version read: Vault refuses the write if anyone added a version since (0: only if none exists).
        var body = new JsonObject { ["options"] = new JsonObject { ["cas"] = state.CurrentVersion }, ["data"] = data };
        var response = await SendAsync(HttpMethod.Post, _dataPath, body, idempotent: false, cancellationToken).ConfigureAwait(false);
        if (IsCasFailure(response))
        {
            throw Conflict("check-and-set: a version was added since it was read");
        }
        var created = await OkAsync(response, "write a version of", cancellationToken).ConfigureAwait(false);
        var versionId = created["data"]?["version"]?.ToString() ?? throw Malformed("the write answer names no version");
        // The cas above orders versions; custom_metadata has no check-and-set. So the writer of the newest version is
        // the one entitled to label it: it writes the labels and reads them back until they are its own, while a writer
        // that sees a newer version than its own steps back without touching the labels.
        var ledger = ledgerFor(versionId);
        for (var attempt = 0; ; attempt++)
        {
            var now = await ReadAsync(cancellationToken).ConfigureAwait(false);
            var meta = (MetadataState)now.Stamp!;
            if (meta.CurrentVersion.ToString(CultureInfo.InvariantCulture) != versionId
                || (now.Ledger != ledger && now.Ledger.Seq != before.Ledger.Seq && now.Ledger.Seq != ledger.Seq)
                || attempt == 5)
            {
                if (!now.Ledger.Labelled().Contains(versionId))
                {
                    // Unlabelled: take it out of reads so nothing half-written stays visible as the latest version.
                    await TryRetireAsync(versionId, cancellationToken).ConfigureAwait(false);
                }
                throw Conflict("another writer added a newer version or moved the labels meanwhile");
            }
            if (now.Ledger == ledger)
            {
                return versionId;
            }
            try
            {
                await WriteMetadataAsync(meta, ledger, cancellationToken).ConfigureAwait(false);
            }
            catch (RotationException)
            {
                await TryRetireAsync(versionId, cancellationToken).ConfigureAwait(false);
                throw;
            }
        }
    }

    protected override async Task CommitLedgerAsync(LedgerSnapshot before, StageLedger after, CancellationToken cancellationToken)
    {
        // custom_metadata has no check-and-set; re-read right before the write so a concurrent change is refused
        // (a narrow window remains between this read and the write, which Vault gives no way to close).
        var now = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (now.Ledger.Seq != before.Ledger.Seq || (now.Stamp as MetadataState)?.CurrentVersion != (before.Stamp as MetadataState)?.CurrentVersion)
        {
            throw Conflict("its rotation labels changed since they were read");
        }
        await WriteMetadataAsync((MetadataState)now.Stamp!, after, cancellationToken).ConfigureAwait(false);
        await VerifyAsync(after, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the labels back: a concurrent writer that slipped into the window between check and write shows here.</summary>
    private async Task VerifyAsync(StageLedger written, CancellationToken cancellationToken)
    {
        var now = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (now.Ledger != written)
        {
            throw Conflict("another writer moved the labels at the same moment");
        }
    }

    protected override async Task<SecretValue> ReadValueAsync(string versionId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, $"{_dataPath}?version={System.Uri.EscapeDataString(versionId)}", null, idempotent: true, cancellationToken).ConfigureAwait(false);
        if (response.Status == HttpStatusCode.NotFound)
        {
            throw Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Target,
                $"Version {versionId} of '{Target}' is deleted or destroyed in Vault, though a rotation label points at it. Undelete it ('vault kv undelete -versions={versionId}') or write a new value.");
        }
        var json = await OkAsync(response, $"read version {versionId} of", cancellationToken).ConfigureAwait(false);
        if (json["data"]?["data"] is not JsonObject fields)
        {
            throw Malformed($"version {versionId} holds no data map");
        }
        if (fields.Count == 1 && fields[SingleValueField] is JsonValue single && single.GetValueKind() == JsonValueKind.String)
        {
            return SecretValue.FromText(single.GetValue<string>());
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in fields)
        {
            map[k] = v is JsonValue s && s.GetValueKind() == JsonValueKind.String ? s.GetValue<string>() : v?.ToJsonString() ?? "null";
        }
        return SecretValue.FromFields(map);
    }

    protected override async Task RetireAsync(string versionId, CancellationToken cancellationToken)
    {
        // Soft delete is idempotent: deleting a deleted version changes nothing.
        var body = new JsonObject { ["versions"] = new JsonArray(long.Parse(versionId, CultureInfo.InvariantCulture)) };
        var response = await SendAsync(HttpMethod.Post, _deletePath, body, idempotent: true, cancellationToken).ConfigureAwait(false);
        await OkAsync(response, "soft-delete a retired version of", cancellationToken, allowEmpty: true).ConfigureAwait(false);
    }

    protected override async Task ReviveAsync(string versionId, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["versions"] = new JsonArray(long.Parse(versionId, CultureInfo.InvariantCulture)) };
        var response = await SendAsync(HttpMethod.Post, _undeletePath, body, idempotent: true, cancellationToken).ConfigureAwait(false);
        await OkAsync(response, "undelete a version of", cancellationToken, allowEmpty: true).ConfigureAwait(false);
    }

    private async Task TryRetireAsync(string versionId, CancellationToken cancellationToken)
    {
        try
        {
            await RetireAsync(versionId, cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException)
        {
            // Unlabelled, so Rotation never reads it; the original error is what the caller needs.
        }
    }

    private async Task WriteMetadataAsync(MetadataState state, StageLedger ledger, CancellationToken cancellationToken)
    {
        var custom = new JsonObject();
        foreach (var (k, v) in ledger.MergeInto(state.Custom))
        {
            custom[k] = v;
        }
        // Writing the whole custom_metadata map is idempotent, so it may be retried.
        var response = await SendAsync(HttpMethod.Post, _metadataPath, new JsonObject { ["custom_metadata"] = custom }, idempotent: true, cancellationToken).ConfigureAwait(false);
        await OkAsync(response, "update the rotation labels of", cancellationToken, allowEmpty: true).ConfigureAwait(false);
    }

    private Task<StoreResponse> SendAsync(HttpMethod method, string path, JsonNode? body, bool idempotent, CancellationToken cancellationToken) =>
        _http.SendAsync(method, path, body, idempotent, cancellationToken, _headers);

    private async Task<JsonNode> OkAsync(StoreResponse response, string action, CancellationToken cancellationToken, bool allowEmpty = false)
    {
        if (response.IsSuccess)
        {
            return response.Json() ?? (allowEmpty ? new JsonObject() : throw Malformed($"the answer to '{action}' was not JSON"));
        }
        if (response.Status == HttpStatusCode.Forbidden && !await TokenIsValidAsync(cancellationToken).ConfigureAwait(false))
        {
            // Vault answers 403 both for a bad token and for a missing policy; lookup-self tells them apart.
            throw new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, Target,
                $"Vault rejected the token ({_tokens.Method}) used to {action} '{Target}': it is expired, revoked or unknown to this server or namespace. To fix: {VaultTokens.AuthHint}");
        }
        throw _http.Fail(response, action);
    }

    private async Task<bool> TokenIsValidAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lookup = await SendAsync(HttpMethod.Get, "v1/auth/token/lookup-self", null, idempotent: true, cancellationToken).ConfigureAwait(false);
            return lookup.IsSuccess;
        }
        catch (RotationException)
        {
            return true;
        }
    }

    private static bool IsCasFailure(StoreResponse response) =>
        response.Status == HttpStatusCode.BadRequest && response.ServerMessage().Contains("check-and-set", StringComparison.OrdinalIgnoreCase);

    private RotationException Malformed(string detail) =>
        new(RotationErrorIds.StoreDocumentMalformed, RotationErrorCategory.InvalidData, Target, $"Vault returned unusable data for '{Target}': {detail}.");

    /// <summary>
    /// VAULT_CACERT, as the Vault CLI reads it: PEM certificates of the authority that signed the server's certificate
    /// (a private CA), trusted for this store only instead of the machine's roots.
    /// </summary>
    private static Func<HttpMessageHandler> TrustingHandler(string caFile, string target)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw Errors.Errors.InvalidArgument(target, $"VAULT_CACERT names '{caFile}', which could not be read as PEM certificates ({e.Message}).");
        }
        return () =>
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(roots);
            return new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy },
            };
        };
    }

    private static string Escape(string path) => string.Join('/', path.Split('/').Select(System.Uri.EscapeDataString));




    /// <summary>What the last metadata read said: the version cas must name, and foreign custom_metadata to keep.</summary>
    private sealed record MetadataState(long CurrentVersion, Dictionary<string, string> Custom);
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores.Staging;

namespace Rotation.Core.Stores.Google;

/// <summary>
/// <c>gcp-sm://&lt;project&gt;/&lt;secret&gt;[#field]</c>: Google Secret Manager over REST v1.
/// Stages are emulated on the secret resource: version aliases <c>current</c>, <c>pending</c>, <c>previous</c> point at
/// version numbers (so consumers can read <c>versions/current</c>), and annotations <c>rotation-*</c> keep the lease
/// (the run holding Pending) and the last idempotency token. Both change in one PATCH guarded by the secret's etag, so
/// of two concurrent writers exactly one wins. Note that <c>versions/latest</c> is simply the newest version, which is
/// a Pending one while a rotation runs. Versions that lose every label are disabled; destroyed only when asked
/// (<see cref="DestroyRetiredVersions"/>, or ROTATION_GCP_SM_DESTROY_RETIRED=true).
/// </summary>
internal sealed class GoogleSecretManagerStore : LedgerSecretStore
{
    public const string EndpointVariable = "ROTATION_GCP_SM_ENDPOINT";
    public const string GcloudEndpointVariable = "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER";
    public const string DefaultEndpoint = "https://secretmanager.googleapis.com/";
    private const string Service = "Google Secret Manager";

    private readonly StoreHttp _http;
    private readonly string _secretPath;

    public GoogleSecretManagerStore(SecretStoreUri uri, StoreContext context)
        : base(uri, context)
    {
        if (uri.Path.Contains('/', StringComparison.Ordinal))
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"'{uri}' is not a Secret Manager address: a secret id has no '/'. Expected {SecretStoreUri.Shape(uri.Scheme)}.");
        }
        var endpoint = context.Endpoint ?? StoreJson.Env(context, EndpointVariable) ?? StoreJson.Env(context, GcloudEndpointVariable) ?? DefaultEndpoint;
        if (!System.Uri.TryCreate(endpoint.EndsWith('/') ? endpoint : endpoint + "/", UriKind.Absolute, out var baseAddress))
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"The Secret Manager endpoint '{endpoint}' is not an absolute URL.");
        }
        var tokens = new GoogleAccessTokens(context, uri.Original);
        _http = new StoreHttp(baseAddress, context, uri.Original, Service,
            async (request, ct) => request.Headers.Authorization = StoreHttp.Bearer(await tokens.GetAsync(ct).ConfigureAwait(false)),
            GoogleAccessTokens.AuthHint);
        _secretPath = $"v1/projects/{System.Uri.EscapeDataString(uri.Authority)}/secrets/{System.Uri.EscapeDataString(uri.Path)}";
        DestroyRetiredVersions = string.Equals(StoreJson.Env(context, "ROTATION_GCP_SM_DESTROY_RETIRED"), "true", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Destroy (irreversibly) versions that lose every label, after disabling them.</summary>
    public bool DestroyRetiredVersions { get; init; }

    protected override async Task<LedgerSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var secret = await _http.SendAsync(HttpMethod.Get, _secretPath, null, idempotent: true, cancellationToken).ConfigureAwait(false);
        if (secret.Status == HttpStatusCode.NotFound)
        {
            return LedgerSnapshot.Missing;
        }
        var json = Ok(secret, "read");
        var versions = new List<BackendVersion>();
        string? page = null;
        do
        {
            var path = _secretPath + "/versions?pageSize=250" + (page is null ? string.Empty : "&pageToken=" + System.Uri.EscapeDataString(page));
            var list = Ok(await _http.SendAsync(HttpMethod.Get, path, null, idempotent: true, cancellationToken).ConfigureAwait(false), "list the versions of");
            foreach (var v in list["versions"] as JsonArray ?? [])
            {
                var state = (string?)v?["state"];
                versions.Add(new BackendVersion(VersionNumber((string?)v?["name"]), StoreJson.ParseTime((string?)v?["createTime"]), state == "ENABLED"));
            }
            page = (string?)list["nextPageToken"] is { Length: > 0 } next ? next : null;
        }
        while (page is not null);
        return new LedgerSnapshot
        {
            Exists = true,
            Ledger = StageLedger.FromMap(StoreJson.StringMap(json["annotations"]), Target),
            Versions = versions,
            Stamp = new SecretState((string?)json["etag"], StoreJson.StringMap(json["annotations"]), StoreJson.StringMap(json["versionAliases"])),
        };
    }

    protected override async Task<string> CommitVersionAsync(SecretValue value, LedgerSnapshot before, Func<string, StageLedger> ledgerFor, CancellationToken cancellationToken)
    {
        var state = before.Stamp as SecretState ?? await CreateSecretAsync(cancellationToken).ConfigureAwait(false);
        var data = Encoding.UTF8.GetBytes(value.ToStoreText());
        var body = new JsonObject
        {
            ["payload"] = new JsonObject
            {
                ["data"] = Convert.ToBase64String(data),
                ["dataCrc32c"] = Crc32C.Compute(data).ToString(CultureInfo.InvariantCulture),
            },
        };
        // addVersion is not idempotent: never retried after an ambiguous failure (StoreHttp retries only 429/503 here).
        var added = Ok(await _http.SendAsync(HttpMethod.Post, _secretPath + ":addVersion", body, idempotent: false, cancellationToken).ConfigureAwait(false), "add a version to");
        var versionId = VersionNumber((string?)added["name"]);
        try
        {
            await PatchLedgerAsync(state, ledgerFor(versionId), cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException e) when (e.ErrorId == RotationErrorIds.StoreWriteConflict)
        {
            await RetireQuietlyAsync(versionId, cancellationToken).ConfigureAwait(false);
            throw;
        }
        return versionId;
    }

    protected override Task CommitLedgerAsync(LedgerSnapshot before, StageLedger after, CancellationToken cancellationToken) =>
        PatchLedgerAsync((SecretState)before.Stamp!, after, cancellationToken);

    protected override async Task<SecretValue> ReadValueAsync(string versionId, CancellationToken cancellationToken)
    {
        var path = $"{_secretPath}/versions/{System.Uri.EscapeDataString(versionId)}:access";
        var json = Ok(await _http.SendAsync(HttpMethod.Get, path, null, idempotent: true, cancellationToken).ConfigureAwait(false), $"read version {versionId} of");
        var payload = json["payload"];
        byte[] data;
        try
        {
            data = Convert.FromBase64String((string?)payload?["data"] ?? string.Empty);
        }
        catch (FormatException e)
        {
            throw Malformed($"version {versionId} carries a payload that is not base64", e);
        }
        if (payload?["dataCrc32c"] is { } crcNode && ParseCrc(crcNode) is { } crc && crc != Crc32C.Compute(data))
        {
            throw Malformed($"version {versionId} failed its CRC32C check (corrupted in transit or at rest); retry the read", null);
        }
        return SecretValue.FromStoreText(Encoding.UTF8.GetString(data), parseFields: true);
    }

    protected override async Task RetireAsync(string versionId, CancellationToken cancellationToken)
    {
        var path = $"{_secretPath}/versions/{System.Uri.EscapeDataString(versionId)}";
        await VersionActionAsync(path + ":disable", "disable a version of", cancellationToken).ConfigureAwait(false);
        if (DestroyRetiredVersions)
        {
            await VersionActionAsync(path + ":destroy", "destroy a version of", cancellationToken).ConfigureAwait(false);
        }
    }

    protected override Task ReviveAsync(string versionId, CancellationToken cancellationToken) =>
        VersionActionAsync($"{_secretPath}/versions/{System.Uri.EscapeDataString(versionId)}:enable", "enable a version of", cancellationToken);

    private async Task RetireQuietlyAsync(string versionId, CancellationToken cancellationToken)
    {
        try
        {
            await RetireAsync(versionId, cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException)
        {
            // The losing version carries no label, so nothing reads it through Rotation; disabling is hygiene.
        }
    }

    private async Task VersionActionAsync(string path, string action, CancellationToken cancellationToken)
    {
        // disable/destroy are idempotent on the server: repeating one leaves the same state.
        var response = await _http.SendAsync(HttpMethod.Post, path, new JsonObject(), idempotent: true, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess && !(response.Status == HttpStatusCode.BadRequest && response.ServerMessage().Contains("DESTROYED", StringComparison.OrdinalIgnoreCase)))
        {
            throw _http.Fail(response, action);
        }
    }

    private async Task<SecretState> CreateSecretAsync(CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["replication"] = new JsonObject { ["automatic"] = new JsonObject() } };
        var path = $"v1/projects/{System.Uri.EscapeDataString(Uri.Authority)}/secrets?secretId={System.Uri.EscapeDataString(Uri.Path)}";
        var created = await _http.SendAsync(HttpMethod.Post, path, body, idempotent: false, cancellationToken).ConfigureAwait(false);
        if (created.Status == HttpStatusCode.Conflict)
        {
            // Created by a concurrent writer meanwhile: go on from its state; its etag guards the ledger write.
            var again = Ok(await _http.SendAsync(HttpMethod.Get, _secretPath, null, idempotent: true, cancellationToken).ConfigureAwait(false), "read");
            if (StageLedger.IsPresent(StoreJson.StringMap(again["annotations"])))
            {
                throw Conflict("the secret was created and labelled by another writer");
            }
            return new SecretState((string?)again["etag"], StoreJson.StringMap(again["annotations"]), StoreJson.StringMap(again["versionAliases"]));
        }
        var json = Ok(created, "create");
        return new SecretState((string?)json["etag"], StoreJson.StringMap(json["annotations"]), StoreJson.StringMap(json["versionAliases"]));
    }

    private async Task PatchLedgerAsync(SecretState state, StageLedger ledger, CancellationToken cancellationToken)
    {
        var aliases = new JsonObject();
        foreach (var (k, v) in state.Aliases.Where(a => a.Key is not ("current" or "pending" or "previous")))
        {
            aliases[k] = v;
        }
        foreach (var stage in (SecretStage[])[SecretStage.Current, SecretStage.Pending, SecretStage.Previous])
        {
            if (ledger.VersionOf(stage) is { } id)
            {
                aliases[stage.ToString().ToLowerInvariant()] = id;
            }
        }
        var annotations = new JsonObject();
        foreach (var (k, v) in ledger.MergeInto(state.Annotations))
        {
            annotations[k] = v;
        }
        var body = new JsonObject { ["annotations"] = annotations, ["versionAliases"] = aliases };
        if (state.ETag is not null)
        {
            body["etag"] = state.ETag;
        }
        // Conditional on the etag: a repeat after a lost answer would report a conflict, never apply twice.
        var response = await _http.SendAsync(HttpMethod.Patch, _secretPath + "?updateMask=annotations,versionAliases", body, idempotent: false, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccess)
        {
            return;
        }
        if (response.Status is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed
            || (response.Status == HttpStatusCode.BadRequest && response.ServerMessage().Contains("etag", StringComparison.OrdinalIgnoreCase)))
        {
            throw Conflict("the secret's etag changed: " + response.ServerMessage());
        }
        throw _http.Fail(response, "update the rotation labels of");
    }

    private JsonNode Ok(StoreResponse response, string action)
    {
        if (!response.IsSuccess)
        {
            throw response.Status == HttpStatusCode.NotFound ? SecretMissing() : _http.Fail(response, action);
        }
        return response.Json() ?? throw Malformed($"the answer to '{action}' was not JSON", null);
    }

    private RotationException Malformed(string detail, Exception? inner) =>
        new(RotationErrorIds.StoreDocumentMalformed, RotationErrorCategory.InvalidData, Target, $"Secret Manager returned unusable data for '{Target}': {detail}.", inner);

    private static string VersionNumber(string? name) =>
        name is null ? string.Empty : name[(name.LastIndexOf('/') + 1)..];

    private static uint? ParseCrc(JsonNode node)
    {
        var text = node.ToString();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= uint.MaxValue ? (uint)v : null;
    }




    /// <summary>The secret resource as last read: etag for the conditional PATCH, foreign annotations and aliases to keep.</summary>
    private sealed record SecretState(string? ETag, Dictionary<string, string> Annotations, Dictionary<string, string> Aliases);
}

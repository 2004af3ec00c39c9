extern alias AzureIdentity;

using System.Diagnostics;
using System.Globalization;
using System.Security.Authentication;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores.Staging;

namespace Rotation.Core.Stores.Azure;

/// <summary>Validity window a rotation gives new Key Vault versions (ExpiresOn / NotBefore), when the caller has a policy.</summary>
public sealed class AzureKeyVaultRotationPolicy
{
    /// <summary>ExpiresOn = write time + this.</summary>
    public TimeSpan? ExpiresAfter { get; init; }

    /// <summary>NotBefore = write time + this (zero: valid from the write).</summary>
    public TimeSpan? NotBeforeDelay { get; init; }

    /// <summary>From ROTATION_AZURE_KV_EXPIRES_AFTER / ROTATION_AZURE_KV_NOT_BEFORE_DELAY (TimeSpan, e.g. 90.00:00:00).</summary>
    public static AzureKeyVaultRotationPolicy? FromEnvironment(StoreContext context, string target)
    {
        TimeSpan? Read(string name)
        {
            if (StoreJson.Env(context, name) is not { } text)
            {
                return null;
            }
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var t) && t >= TimeSpan.Zero
                ? t
                : throw Errors.Errors.InvalidArgument(target, $"{name}='{text}' is not a non-negative TimeSpan such as 90.00:00:00.");
        }
        var expires = Read("ROTATION_AZURE_KV_EXPIRES_AFTER");
        var notBefore = Read("ROTATION_AZURE_KV_NOT_BEFORE_DELAY");
        return expires is null && notBefore is null ? null : new AzureKeyVaultRotationPolicy { ExpiresAfter = expires, NotBeforeDelay = notBefore };
    }
}

/// <summary>What the Key Vault store takes besides the URI and context (tests inject credential and timing).</summary>
public sealed class AzureKeyVaultStoreOptions
{
    /// <summary>Null: DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI, Azure DevOps service connection via AzurePipelinesCredential env).</summary>
    public TokenCredential? Credential { get; init; }

    public AzureKeyVaultRotationPolicy? RotationPolicy { get; init; }

    /// <summary>How long a writer waits before checking it won (see the class remarks). Longer than one request's round trip.</summary>
    public TimeSpan SettleDelay { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// <c>azure-kv://&lt;vault&gt;/&lt;secret&gt;[#field]</c>: Azure Key Vault secrets through Azure.Security.KeyVault.Secrets.
/// The vault is https://&lt;vault&gt;.vault.azure.net/ (or &lt;vault&gt; as a host name when it has a dot, or the -Endpoint).
///
/// Stages live in tags on versions: each label change writes one "ledger record" (the rotation-* tags: current,
/// pending and previous version ids, lease run id, a sequence number and a writer nonce) onto one version, in a single
/// request; the record with the highest sequence is the state. Key Vault has no conditional write, so concurrency is
/// a claim-and-check: a writer waits <see cref="AzureKeyVaultStoreOptions.SettleDelay"/>, lists the versions, and wins
/// only if no other record has a higher sequence (ties: the lowest version id, and only for a writer whose own write
/// landed within the settle delay of its read, so both writers saw each other). The loser withdraws its record and
/// reports StoreWriteConflict. Versions that lose every label are disabled, never deleted or purged.
/// </summary>
internal sealed class AzureKeyVaultStore : LedgerSecretStore
{
    private const string Service = "Azure Key Vault";
    private const string SelfPlaceholder = "~self";
    private const string NonceTag = StageLedger.Prefix + "writer";
    private const string WithdrawnTag = StageLedger.Prefix + "withdrawn";
    private const string JsonContentType = "application/json";
    private const string AuthHint = "sign in with 'az login', or set AZURE_CLIENT_ID/AZURE_TENANT_ID with a secret, certificate or federated token " +
        "(workload identity, Azure DevOps service connection), or run where a managed identity is assigned; the identity needs Key Vault secret get/list/set permissions.";

    private static readonly string[] KnownVaultSuffixes = [".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de"];

    private readonly SecretClient _client;
    private readonly AzureKeyVaultStoreOptions _options;
    private readonly string _name;

    public AzureKeyVaultStore(SecretStoreUri uri, StoreContext context, AzureKeyVaultStoreOptions? options = null)
        : base(uri, context)
    {
        if (uri.Path.Contains('/', StringComparison.Ordinal))
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"'{uri}' is not a Key Vault address: a secret name has no '/'. Expected {SecretStoreUri.Shape(uri.Scheme)}.");
        }
        _options = options ?? new AzureKeyVaultStoreOptions { RotationPolicy = AzureKeyVaultRotationPolicy.FromEnvironment(context, uri.Original) };
        _name = uri.Path;
        var endpoint = context.Endpoint ?? StoreJson.Env(context, "ROTATION_AZURE_KV_ENDPOINT")
            ?? (uri.Authority.Contains('.', StringComparison.Ordinal) ? $"https://{uri.Authority}/" : $"https://{uri.Authority}.vault.azure.net/");
        if (!System.Uri.TryCreate(endpoint, UriKind.Absolute, out var vaultUri))
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"The Key Vault address '{endpoint}' is not an absolute URL.");
        }
        var clientOptions = new SecretClientOptions
        {
            // The SDK checks that the challenge's resource matches the vault host; only real vault hosts can pass.
            DisableChallengeResourceVerification = !KnownVaultSuffixes.Any(s => vaultUri.Host.EndsWith(s, StringComparison.OrdinalIgnoreCase)),
        };
        clientOptions.Retry.NetworkTimeout = context.RequestTimeout;
        clientOptions.RetryPolicy = new SafeRetryPolicy(context.MaxRetries);
        if (context.HttpHandlerFactory is { } factory)
        {
            clientOptions.Transport = new HttpClientTransport(factory());
        }
        _client = new SecretClient(vaultUri, _options.Credential ?? new AzureIdentity::Azure.Identity.DefaultAzureCredential(), clientOptions);
    }

    protected override async Task<LedgerSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var all = new List<SecretProperties>();
        try
        {
            await foreach (var p in _client.GetPropertiesOfSecretVersionsAsync(_name, cancellationToken).ConfigureAwait(false))
            {
                all.Add(p);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return LedgerSnapshot.Missing;
        }
        catch (Exception e) when (Translate(e, "list the versions of") is { } mapped)
        {
            throw mapped;
        }
        if (all.Count == 0)
        {
            return LedgerSnapshot.Missing;
        }
        var winner = Records(all).FirstOrDefault();
        return new LedgerSnapshot
        {
            Exists = true,
            Ledger = winner.Ledger ?? StageLedger.Empty,
            Versions = all.OrderBy(p => p.CreatedOn).Select(p => new BackendVersion(p.Version, p.CreatedOn, p.Enabled != false)).ToList(),
            Stamp = all,
        };
    }

    protected override async Task<string> CommitVersionAsync(SecretValue value, LedgerSnapshot before, Func<string, StageLedger> ledgerFor, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var nonce = Guid.NewGuid().ToString("N");
        var secret = new KeyVaultSecret(_name, value.ToStoreText());
        foreach (var (k, v) in ledgerFor(SelfPlaceholder).ToMap())
        {
            secret.Properties.Tags[k] = v;
        }
        secret.Properties.Tags[NonceTag] = nonce;
        secret.Properties.ContentType = value.IsFields ? JsonContentType : null;
        var now = Context.Clock.GetUtcNow();
        if (_options.RotationPolicy is { } policy)
        {
            secret.Properties.ExpiresOn = policy.ExpiresAfter is { } e ? now + e : null;
            secret.Properties.NotBefore = policy.NotBeforeDelay is { } d ? now + d : null;
        }
        KeyVaultSecret created;
        try
        {
            created = (await _client.SetSecretAsync(secret, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (Translate(e, "write a version of") is { } mapped)
        {
            throw mapped;
        }
        await ElectAsync(created.Properties.Version, nonce, before.Ledger.Seq + 1, started.Elapsed, withdrawByDisabling: true, cancellationToken).ConfigureAwait(false);
        return created.Properties.Version;
    }

    protected override async Task CommitLedgerAsync(LedgerSnapshot before, StageLedger after, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var versions = (List<SecretProperties>)before.Stamp!;
        var holder = Records(versions).FirstOrDefault().Version;
        // Write the record onto a version that does not hold the state being replaced, so losing the election can never
        // erase it; prefer versions that stay labelled (they stay enabled).
        var labelled = after.Labelled().ToHashSet(StringComparer.Ordinal);
        var target = versions.Where(v => v.Version != holder && v.Enabled != false).OrderByDescending(v => labelled.Contains(v.Version)).FirstOrDefault()
            ?? versions.First(v => v.Version == holder);
        var nonce = Guid.NewGuid().ToString("N");
        var tags = after.MergeInto(target.Tags.ToDictionary(kv => kv.Key, kv => kv.Value));
        tags.Remove(WithdrawnTag);
        tags[NonceTag] = nonce;
        await UpdateTagsAsync(target, tags, enabled: null, "update the rotation labels of", cancellationToken).ConfigureAwait(false);
        await ElectAsync(target.Version, nonce, after.Seq, started.Elapsed, withdrawByDisabling: false, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<SecretValue> ReadValueAsync(string versionId, CancellationToken cancellationToken)
    {
        try
        {
            var secret = (await _client.GetSecretAsync(_name, versionId, cancellationToken).ConfigureAwait(false)).Value;
            return SecretValue.FromStoreText(secret.Value, parseFields: secret.Properties.ContentType == JsonContentType);
        }
        catch (RequestFailedException e) when (e.Status == 403 && e.Message.Contains("disabled", StringComparison.OrdinalIgnoreCase))
        {
            throw new RotationException(RotationErrorIds.StoreRequestFailed, RotationErrorCategory.InvalidOperation, Target,
                $"Version {versionId} of '{Target}' is disabled, though a rotation label points at it. Enable it ('az keyvault secret set-attributes --enabled true') or write a new value.", e);
        }
        catch (Exception e) when (Translate(e, $"read version {versionId} of") is { } mapped)
        {
            throw mapped;
        }
    }

    protected override async Task RetireAsync(string versionId, CancellationToken cancellationToken)
    {
        var props = await PropertiesAsync(versionId, cancellationToken).ConfigureAwait(false);
        if (props is not null && props.Enabled != false)
        {
            await UpdateTagsAsync(props, props.Tags.ToDictionary(kv => kv.Key, kv => kv.Value), enabled: false, "disable a retired version of", cancellationToken).ConfigureAwait(false);
        }
    }

    protected override async Task ReviveAsync(string versionId, CancellationToken cancellationToken)
    {
        var props = await PropertiesAsync(versionId, cancellationToken).ConfigureAwait(false);
        if (props is not null)
        {
            await UpdateTagsAsync(props, props.Tags.ToDictionary(kv => kv.Key, kv => kv.Value), enabled: true, "enable a version of", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The claim-and-check: after the settle delay, the record with the highest sequence wins.</summary>
    private async Task ElectAsync(string version, string nonce, long seq, TimeSpan ownLatency, bool withdrawByDisabling, CancellationToken cancellationToken)
    {
        await Task.Delay(_options.SettleDelay, Context.Clock, cancellationToken).ConfigureAwait(false);
        var now = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var versions = (List<SecretProperties>?)now.Stamp ?? [];
        var mine = versions.FirstOrDefault(v => v.Version == version);
        var overwritten = mine is null || !mine.Tags.TryGetValue(NonceTag, out var n) || n != nonce;
        var rivals = Records(versions).Where(r => r.Version != version && r.Ledger!.Seq >= seq).ToList();
        var lost = overwritten
            || rivals.Any(r => r.Ledger!.Seq > seq)
            || (rivals.Count > 0 && (ownLatency > _options.SettleDelay || rivals.Any(r => string.CompareOrdinal(r.Version, version) < 0)));
        if (!lost)
        {
            return;
        }
        if (!overwritten)
        {
            var tags = mine!.Tags.Where(kv => !kv.Key.StartsWith(StageLedger.Prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
            tags[WithdrawnTag] = nonce;
            try
            {
                await UpdateTagsAsync(mine, tags, withdrawByDisabling ? false : null, "withdraw a losing write to", cancellationToken).ConfigureAwait(false);
            }
            catch (RotationException)
            {
                // Losing records rank below the winner's anyway; withdrawing is hygiene.
            }
        }
        throw Conflict("another writer labelled it at the same time");
    }

    /// <summary>Ledger records on versions, best first: highest sequence, then lowest version id.</summary>
    private IEnumerable<(string Version, StageLedger? Ledger)> Records(IEnumerable<SecretProperties> versions) =>
        versions.Where(v => StageLedger.IsPresent(v.Tags.AsReadOnly()))
            .Select(v => (v.Version, Ledger: (StageLedger?)StageLedger.FromMap(v.Tags.AsReadOnly(), Target).Resolve(SelfPlaceholder, v.Version)))
            .OrderByDescending(r => r.Ledger!.Seq)
            .ThenBy(r => r.Version, StringComparer.Ordinal);

    private async Task<SecretProperties?> PropertiesAsync(string versionId, CancellationToken cancellationToken)
    {
        var snap = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return ((List<SecretProperties>?)snap.Stamp)?.FirstOrDefault(v => v.Version == versionId);
    }

    private async Task UpdateTagsAsync(SecretProperties properties, Dictionary<string, string> tags, bool? enabled, string action, CancellationToken cancellationToken)
    {
        var update = new SecretProperties(properties.Id) { Enabled = enabled ?? properties.Enabled, ContentType = properties.ContentType };
        foreach (var (k, v) in tags)
        {
            update.Tags[k] = v;
        }
        try
        {
            await _client.UpdateSecretPropertiesAsync(update, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, action) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>Maps SDK and identity failures to the store error ids; null for exceptions that are not ours to map.</summary>
    private RotationException? Translate(Exception e, string action)
    {
        switch (e)
        {
            case RotationException:
                return null;
            case AggregateException { InnerExceptions.Count: > 0 } all:
                // Azure.Core's retry policy reports exhausted retries as an AggregateException of each attempt's failure.
                return Translate(all.InnerExceptions[^1], action);
            case AzureIdentity::Azure.Identity.CredentialUnavailableException or AzureIdentity::Azure.Identity.AuthenticationFailedException:
                return new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, Target,
                    $"No Azure credential could obtain a token to {action} '{Target}' ({FirstLine(e.Message)}). To fix: {AuthHint}", e);
            case RequestFailedException r:
                var server = $"HTTP {r.Status} {r.ErrorCode}: {FirstLine(r.Message)}";
                return r.Status switch
                {
                    0 when HasInner<AuthenticationException>(e) => new RotationException(RotationErrorIds.StoreUnreachable, RotationErrorCategory.SecurityError, Target,
                        $"The TLS handshake with {Service} failed for '{Target}': the server's certificate was not accepted ({FirstLine(Innermost(e).Message)}). Check the vault address and the certificate authority this machine trusts.", e),
                    0 => new RotationException(RotationErrorIds.StoreUnreachable, RotationErrorCategory.ConnectionError, Target,
                        $"{Service} could not be reached to {action} '{Target}' ({FirstLine(Innermost(e).Message)}). Check the network and the vault name, then retry.", e),
                    401 => new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, Target,
                        $"{Service} rejected the token used to {action} '{Target}' ({server}). It may have expired or be for another tenant. To fix: {AuthHint}", e),
                    403 => new RotationException(RotationErrorIds.StoreAccessDenied, RotationErrorCategory.PermissionDenied, Target,
                        $"The identity used is not allowed to {action} '{Target}' ({server}). Grant it the Key Vault Secrets Officer role or an access policy with get, list and set.", e),
                    404 => SecretMissing(e),
                    409 when r.Message.Contains("deleted", StringComparison.OrdinalIgnoreCase) => new RotationException(RotationErrorIds.StoreRequestFailed, RotationErrorCategory.InvalidOperation, Target,
                        $"'{Target}' is deleted and still recoverable in {Service} ({server}). Recover it ('az keyvault secret recover') or purge it before writing; Rotation never purges on its own.", e),
                    409 or 412 => Conflict(server, e),
                    429 => new RotationException(RotationErrorIds.StoreThrottled, RotationErrorCategory.LimitsExceeded, Target,
                        $"{Service} kept throttling requests to {action} '{Target}' ({server}, after {Context.MaxRetries} retries). Wait a while and retry.", e),
                    >= 500 => new RotationException(RotationErrorIds.StoreUnreachable, RotationErrorCategory.ResourceUnavailable, Target,
                        $"{Service} failed to {action} '{Target}' ({server}). Retry later.", e),
                    _ => new RotationException(RotationErrorIds.StoreRequestFailed, RotationErrorCategory.InvalidOperation, Target,
                        $"{Service} refused to {action} '{Target}' ({server}).", e),
                };
            case OperationCanceledException:
                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// The SDK's retries, except that a PUT (SetSecret adds a version every time) is repeated only when the service
    /// certainly did not act on it (429, 503); after a dropped connection or another 5xx its outcome is unknown.
    /// </summary>
    private sealed class SafeRetryPolicy(int maxRetries)
        : RetryPolicy(maxRetries, DelayStrategy.CreateExponentialDelayStrategy(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30)))
    {
        protected override bool ShouldRetry(HttpMessage message, Exception? exception) =>
            message.Request.Method == RequestMethod.Put
                ? exception is null && message.HasResponse && message.Response.Status is 429 or 503
                : base.ShouldRetry(message, exception);

        protected override ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception) =>
            message.Request.Method == RequestMethod.Put ? new(ShouldRetry(message, exception)) : base.ShouldRetryAsync(message, exception);
    }

    private static bool HasInner<T>(Exception e)
        where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is T)
            {
                return true;
            }
        }
        return false;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Stores;

namespace Rotation.Core.Kubernetes;

/// <summary>
/// A small client for exactly the Kubernetes REST calls Rotation makes: get, list, create, replace (PUT with the
/// resourceVersion read, so concurrent writers conflict instead of overwriting), patch, watch. Errors become
/// RotationException with the Kube* ids and messages that name the context, namespace and object.
/// </summary>
public sealed class KubeClient : IDisposable
{
    /// <summary>The field manager Rotation writes as (kubectl writes as kubectl-rollout, kubectl-patch, ...).</summary>
    public const string FieldManager = "rotation";

    private readonly KubeConnectionSettings _settings;
    private readonly Func<HttpMessageHandler>? _handlerFactory;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _requestTimeout;
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _credentialLock = new(1, 1);
    private KubeCredential? _cached;

    public KubeClient(KubeConnectionSettings settings, Func<HttpMessageHandler>? handlerFactory = null, TimeProvider? clock = null, TimeSpan? requestTimeout = null)
    {
        _settings = settings;
        _handlerFactory = handlerFactory;
        _clock = clock ?? TimeProvider.System;
        _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30);
    }

    /// <summary>Opens a context from the kubeconfig (null: the current context).</summary>
    public static KubeClient Open(string? context, StoreContext storeContext, KubeConfigLoader? loader = null)
    {
        loader ??= new KubeConfigLoader { GetEnvironmentVariable = storeContext.GetEnvironmentVariable };
        return new KubeClient(loader.Resolve(context), storeContext.HttpHandlerFactory, storeContext.Clock, storeContext.RequestTimeout);
    }

    public string Context => _settings.Context;

    public string DefaultNamespace => _settings.Namespace;

    public TimeProvider Clock => _clock;

    /// <summary>Bounded attempts for a read-modify-write that keeps hitting 409 Conflict.</summary>
    public int MaxConflictAttempts { get; init; } = 5;

    /// <summary>Server-side timeout of one watch request; the client reconnects from the last resourceVersion.</summary>
    public int WatchTimeoutSeconds { get; init; } = 290;

    public void Dispose()
    {
        foreach (var c in _clients.Values)
        {
            c.Dispose();
        }
        _credentialLock.Dispose();
    }

    // ---- typed calls -------------------------------------------------------------------------------------------

    public async Task<JsonObject> GetAsync(KubeResourceType type, string ns, string name, CancellationToken cancellationToken = default)
    {
        var op = new KubeOp("get", type, ns, name);
        return await SendJsonAsync(op, HttpMethod.Get, type.ObjectPath(ns, name), null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET that returns null for 404 instead of throwing.</summary>
    public async Task<JsonObject?> TryGetAsync(KubeResourceType type, string ns, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetAsync(type, ns, name, cancellationToken).ConfigureAwait(false);
        }
        catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.KubeObjectNotFound)
        {
            return null;
        }
    }

    public async Task<JsonObject> ListAsync(KubeResourceType type, string ns, string? labelSelector = null, string? fieldSelector = null, CancellationToken cancellationToken = default)
    {
        var op = new KubeOp("list", type, ns, null);
        return await SendJsonAsync(op, HttpMethod.Get, type.CollectionPath(ns) + Query(("labelSelector", labelSelector), ("fieldSelector", fieldSelector)), null, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<JsonObject> CreateAsync(KubeResourceType type, string ns, JsonObject body, CancellationToken cancellationToken = default)
    {
        var op = new KubeOp("create", type, ns, body["metadata"]?["name"]?.GetValue<string>());
        return await SendJsonAsync(op, HttpMethod.Post, type.CollectionPath(ns) + Query(("fieldManager", FieldManager)), body.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PUT: the body's metadata.resourceVersion makes it conditional (409 when someone wrote in between).</summary>
    public async Task<JsonObject> ReplaceAsync(KubeResourceType type, string ns, string name, JsonObject body, CancellationToken cancellationToken = default)
    {
        var op = new KubeOp("update", type, ns, name);
        return await SendJsonAsync(op, HttpMethod.Put, type.ObjectPath(ns, name) + Query(("fieldManager", FieldManager)), body.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>PATCH with one of the patch content types (strategic-merge-patch+json, merge-patch+json, json-patch+json).</summary>
    public async Task<JsonObject> PatchAsync(KubeResourceType type, string ns, string name, string contentType, JsonNode patch, CancellationToken cancellationToken = default)
    {
        var op = new KubeOp("patch", type, ns, name);
        return await SendJsonAsync(op, HttpMethod.Patch, type.ObjectPath(ns, name) + Query(("fieldManager", FieldManager)), patch.ToJsonString(), contentType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Read-modify-write with optimistic concurrency: GET, let <paramref name="change"/> build the new object from the
    /// current one (null: the object does not exist; return null to write nothing), then PUT (or POST when it did
    /// not exist). A 409 means someone wrote in between: re-GET and apply the change again to what they wrote, up to
    /// <see cref="MaxConflictAttempts"/> times. The change function sees fresh state on each attempt, so its own
    /// checks (a lease held by another run) are evaluated against the winner's write.
    /// </summary>
    public async Task<JsonObject?> UpdateAsync(KubeResourceType type, string ns, string name, Func<JsonObject?, JsonObject?> change, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await TryGetAsync(type, ns, name, cancellationToken).ConfigureAwait(false);
            var next = change(current is null ? null : (JsonObject)current.DeepClone());
            if (next is null)
            {
                return current;
            }
            try
            {
                return current is null
                    ? await CreateAsync(type, ns, next, cancellationToken).ConfigureAwait(false)
                    : await ReplaceAsync(type, ns, name, next, cancellationToken).ConfigureAwait(false);
            }
            catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.KubeConflict && attempt < MaxConflictAttempts)
            {
                // Someone else wrote between our GET and PUT (or created it first): back off a little and redo.
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt + Random.Shared.Next(20)), _clock, cancellationToken).ConfigureAwait(false);
            }
            catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.KubeConflict)
            {
                throw new RotationException(RotationErrorIds.KubeConflict, RotationErrorCategory.ResourceBusy, Describe(type, ns, name),
                    $"The {type.Kind} '{ns}/{name}' in context '{Context}' kept changing under us: {MaxConflictAttempts} attempts each met 409 Conflict. " +
                    "Another writer is updating it continuously; nothing was written by this call. Retry when it settles.", ex);
            }
        }
    }

    /// <summary>The served versions of an API group (GET /apis/{group}), preferred first; empty when the group is not installed.</summary>
    public async Task<IReadOnlyList<string>> GroupVersionsAsync(string group, CancellationToken cancellationToken = default)
    {
        try
        {
            var doc = await SendJsonAsync(new KubeOp("get", null, null, group), HttpMethod.Get, "/apis/" + group, null, null, cancellationToken).ConfigureAwait(false);
            var preferred = doc["preferredVersion"]?["version"]?.GetValue<string>();
            var versions = (doc["versions"] as JsonArray ?? []).Select(v => v?["version"]?.GetValue<string>()).OfType<string>().ToList();
            if (preferred is not null)
            {
                versions.Remove(preferred);
                versions.Insert(0, preferred);
            }
            return versions;
        }
        catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.KubeObjectNotFound)
        {
            return [];
        }
    }

    // ---- watch -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Watches a collection from <paramref name="resourceVersion"/>: newline-delimited JSON events. When the server
    /// ends a watch (its timeout), reconnects from the last resourceVersion seen. A 410 Gone (the version is too old)
    /// surfaces as <see cref="KubeWatchEvent.Expired"/> so the caller re-lists.
    /// </summary>
    public async IAsyncEnumerable<KubeWatchEvent> WatchAsync(KubeResourceType type, string ns, string resourceVersion, string? fieldSelector = null,
        string? labelSelector = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var rv = resourceVersion;
        while (!cancellationToken.IsCancellationRequested)
        {
            var path = type.CollectionPath(ns) + Query(("allowWatchBookmarks", "true"), ("fieldSelector", fieldSelector), ("labelSelector", labelSelector),
                ("resourceVersion", rv), ("timeoutSeconds", WatchTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("watch", "true"));
            var op = new KubeOp("watch", type, ns, null);
            using var response = await SendAsync(op, HttpMethod.Get, path, null, null, HttpCompletionOption.ResponseHeadersRead, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Gone)
            {
                yield return KubeWatchEvent.ExpiredEvent;
                yield break;
            }
            await ThrowForStatusAsync(op, response, cancellationToken).ConfigureAwait(false);
            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    line = null; // the server dropped the stream: reconnect from the last version seen
                }
                if (line is null)
                {
                    break;
                }
                if (line.Length == 0)
                {
                    continue;
                }
                var ev = JsonNode.Parse(line) as JsonObject;
                var evType = ev?["type"]?.GetValue<string>() ?? string.Empty;
                var obj = ev?["object"] as JsonObject;
                if (evType == "ERROR")
                {
                    if (obj?["code"]?.GetValue<int>() == 410)
                    {
                        yield return KubeWatchEvent.ExpiredEvent;
                        yield break;
                    }
                    throw new RotationException(RotationErrorIds.KubeRequestFailed, RotationErrorCategory.ProtocolError, op.Target,
                        $"The watch of {op.What} in context '{Context}' failed: {obj?["message"]?.GetValue<string>() ?? "unknown error"}.");
                }
                if (obj?["metadata"]?["resourceVersion"]?.GetValue<string>() is { } newRv)
                {
                    rv = newRv;
                }
                if (evType == "BOOKMARK" || obj is null)
                {
                    continue;
                }
                yield return new KubeWatchEvent(evType, obj);
            }
        }
    }

    /// <summary>
    /// Waits until the named object satisfies <paramref name="done"/> (list, then watch from the list's
    /// resourceVersion: what kubectl rollout status does). Returns the last state seen and whether it was done;
    /// on deadline returns done=false. A deleted object ends the wait with a null state.
    /// </summary>
    public async Task<(JsonObject? Last, bool Done)> WaitForAsync(KubeResourceType type, string ns, string name, Func<JsonObject, bool> done,
        TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = new CancellationTokenSource(timeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        JsonObject? last = null;
        var field = "metadata.name=" + name;
        try
        {
            while (true)
            {
                var list = await ListAsync(type, ns, fieldSelector: field, cancellationToken: linked.Token).ConfigureAwait(false);
                last = (list["items"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();
                if (last is null)
                {
                    throw new RotationException(RotationErrorIds.KubeObjectNotFound, RotationErrorCategory.ObjectNotFound, Describe(type, ns, name),
                        $"The {type.Kind} '{name}' does not exist in namespace '{ns}' of context '{Context}'.");
                }
                if (done(last))
                {
                    return (last, true);
                }
                var rv = list["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "0";
                var expired = false;
                await foreach (var ev in WatchAsync(type, ns, rv, field, cancellationToken: linked.Token).ConfigureAwait(false))
                {
                    if (ev.Expired)
                    {
                        expired = true;
                        break;
                    }
                    if (ev.Type == "DELETED")
                    {
                        throw new RotationException(RotationErrorIds.KubeObjectNotFound, RotationErrorCategory.ObjectNotFound, Describe(type, ns, name),
                            $"The {type.Kind} '{name}' in namespace '{ns}' of context '{Context}' was deleted while waiting for it.");
                    }
                    if (ev.Object is null)
                    {
                        continue;
                    }
                    last = ev.Object;
                    if (done(last))
                    {
                        return (last, true);
                    }
                }
                if (!expired)
                {
                    // The watch loop only ends on cancellation; reaching here means the enumerator stopped early.
                    linked.Token.ThrowIfCancellationRequested();
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (last, false);
        }
    }

    // ---- transport ---------------------------------------------------------------------------------------------

    internal string Describe(KubeResourceType? type, string? ns, string? name) =>
        $"k8s://{Context}/{ns}/{(type is null ? string.Empty : type.Plural + "/")}{name}";

    private async Task<JsonObject> SendJsonAsync(KubeOp op, HttpMethod method, string path, string? body, string? contentType, CancellationToken cancellationToken)
    {
        // Reads are safe to repeat after a 429/5xx; writes are not retried here (UpdateAsync re-reads on conflict).
        var attempts = method == HttpMethod.Get ? 3 : 1;
        for (var attempt = 1; ; attempt++)
        {
            using var response = await SendAsync(op, method, path, body, contentType, HttpCompletionOption.ResponseContentRead, _requestTimeout, cancellationToken).ConfigureAwait(false);
            var transient = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.InternalServerError;
            if (transient && attempt < attempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _clock, cancellationToken).ConfigureAwait(false);
                continue;
            }
            await ThrowForStatusAsync(op, response, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException ex)
            {
                throw new RotationException(RotationErrorIds.KubeRequestFailed, RotationErrorCategory.ProtocolError, op.Target,
                    $"The API server of context '{Context}' answered {op.Verb} {op.What} with a body that is not a JSON object.", ex);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(KubeOp op, HttpMethod method, string path, string? body, string? contentType,
        HttpCompletionOption completion, TimeSpan timeout, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var credential = await CredentialAsync(op, refresh: attempt > 1, cancellationToken).ConfigureAwait(false);
            var client = HttpClientFor(credential?.ClientCertificate);
            using var request = new HttpRequestMessage(method, new Uri(_settings.Server, path));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.ParseAdd("Rotation/" + typeof(KubeClient).Assembly.GetName().Version?.ToString(3));
            var https = _settings.Server.Scheme == Uri.UriSchemeHttps;
            // Like client-go, credentials go only over TLS: a bearer token on plain http would be readable on the wire.
            if (https && credential?.Token is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            else if (https && _settings.BasicUser is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes(_settings.BasicUser + ":" + _settings.BasicPassword)));
            }
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
            }
            using var perRequest = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                perRequest.CancelAfter(timeout);
            }
            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(request, completion, perRequest.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new RotationException(RotationErrorIds.KubeUnreachable, RotationErrorCategory.ConnectionError, op.Target,
                    $"The API server {_settings.Server} of context '{Context}' could not be reached to {op.Verb} {op.What}: {ex.Message}. Check the network and the cluster address.", ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RotationException(RotationErrorIds.KubeUnreachable, RotationErrorCategory.OperationTimeout, op.Target,
                    $"The API server {_settings.Server} of context '{Context}' did not answer {op.Verb} {op.What} within {timeout.TotalSeconds:0} s.", ex);
            }
            // A refreshable credential (exec plugin, token file) gets one fresh try after a 401, as client-go does.
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 1 && (_settings.Exec is not null || _settings.TokenFile is not null))
            {
                response.Dispose();
                continue;
            }
            return response;
        }
    }

    private async Task<KubeCredential?> CredentialAsync(KubeOp op, bool refresh, CancellationToken cancellationToken)
    {
        if (_settings.Exec is { } exec)
        {
            await _credentialLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var now = _clock.GetUtcNow();
                if (refresh || _cached is null || (_cached.ExpiresAt is { } exp && exp <= now))
                {
                    _cached = await exec.RunAsync(Context, cancellationToken).ConfigureAwait(false);
                    if (_cached.ExpiresAt is { } e && e <= now)
                    {
                        var expiredAt = e;
                        _cached = null;
                        throw new RotationException(RotationErrorIds.KubeUnauthorized, RotationErrorCategory.AuthenticationError, op.Target,
                            $"The exec credential plugin '{exec.Command}' of context '{Context}' returned a credential that expired at {expiredAt:u}; " +
                            $"nothing was sent to the cluster. Log in again with the tool behind it (gcloud auth login, aws sso login, ...) and retry.");
                    }
                }
                return _cached;
            }
            finally
            {
                _credentialLock.Release();
            }
        }
        if (_settings.TokenFile is { } file)
        {
            try
            {
                var token = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
                return new KubeCredential(token, _settings.ClientCertificate, null);
            }
            catch (IOException ex)
            {
                throw new RotationException(RotationErrorIds.KubeUnauthorized, RotationErrorCategory.AuthenticationError, op.Target,
                    $"The token file '{file}' of context '{Context}' cannot be read: {ex.Message}", ex);
            }
        }
        return _settings.Token is null && _settings.ClientCertificate is null ? null : new KubeCredential(_settings.Token, _settings.ClientCertificate, null);
    }

    private HttpClient HttpClientFor(X509Certificate2? clientCertificate)
    {
        var key = clientCertificate?.Thumbprint ?? string.Empty;
        lock (_clients)
        {
            if (_clients.TryGetValue(key, out var existing))
            {
                return existing;
            }
            var handler = _handlerFactory?.Invoke() ?? CreateHandler(clientCertificate);
            var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            _clients[key] = client;
            return client;
        }
    }

    private SocketsHttpHandler CreateHandler(X509Certificate2? clientCertificate)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (!string.IsNullOrEmpty(_settings.TlsServerName))
        {
            ssl.TargetHost = _settings.TlsServerName;
        }
        if (clientCertificate is not null)
        {
            ssl.ClientCertificates = [clientCertificate];
        }
        if (_settings.InsecureSkipTlsVerify)
        {
            ssl.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (_settings.CaCertificates is { Count: > 0 } roots)
        {
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateAgainst(roots, certificate, errors);
        }
        return new SocketsHttpHandler { SslOptions = ssl, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
    }

    /// <summary>The cluster's CA is the only trust anchor (kubeconfig certificate-authority), and the name must match.</summary>
    internal static bool ValidateAgainst(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private async Task ThrowForStatusAsync(KubeOp op, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? message = null;
        try
        {
            message = (JsonNode.Parse(text) as JsonObject)?["message"]?.GetValue<string>();
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        var server = message is null ? string.Empty : $" The server said: {message}";
        var user = _settings.UserName is null ? "the configured user" : $"user '{_settings.UserName}'";
        throw (int)response.StatusCode switch
        {
            401 => new RotationException(RotationErrorIds.KubeUnauthorized, RotationErrorCategory.AuthenticationError, op.Target,
                $"The API server of context '{Context}' rejected the credentials of {user} (401 Unauthorized) to {op.Verb} {op.What}. " +
                (_settings.Exec is { } exec
                    ? $"The token from the exec plugin '{exec.Command}' was refused even after a refresh (expired or revoked): log in again with the tool behind it."
                    : "The token or client certificate is expired or invalid: refresh the kubeconfig credentials.") + server),
            403 => new RotationException(RotationErrorIds.KubeForbidden, RotationErrorCategory.PermissionDenied, op.Target,
                $"Forbidden (403): {user} of context '{Context}' may not {op.Verb} {op.What}. Grant the RBAC permission '{op.Verb}' on {op.Resource}{(op.Namespace is null ? string.Empty : $" in namespace '{op.Namespace}'")}.{server}"),
            404 => new RotationException(RotationErrorIds.KubeObjectNotFound, RotationErrorCategory.ObjectNotFound, op.Target,
                $"Not found (404): {op.What} does not exist in context '{Context}'. Check the name and namespace.{server}"),
            409 => new RotationException(RotationErrorIds.KubeConflict, RotationErrorCategory.ResourceBusy, op.Target,
                $"Conflict (409): {op.What} in context '{Context}' was changed by someone else between read and write.{server}"),
            _ => new RotationException(RotationErrorIds.KubeRequestFailed, RotationErrorCategory.InvalidResult, op.Target,
                $"The API server of context '{Context}' refused to {op.Verb} {op.What}: {(int)response.StatusCode} {response.ReasonPhrase}.{server}"),
        };
    }

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var parts = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return parts.Count == 0 ? string.Empty : "?" + string.Join('&', parts);
    }

    private sealed record KubeOp(string Verb, KubeResourceType? Type, string? Namespace, string? Name)
    {
        public string Resource => Type?.Plural ?? "the API group";

        public string What => Type is null ? $"API group '{Name}'"
            : Name is null ? $"{Type.Plural} in namespace '{Namespace}'"
            : $"{Type.Kind} '{Namespace}/{Name}'";

        public string Target => Type is null ? Name ?? string.Empty
            : Name is null ? $"{Namespace}/{Type.Plural}" : $"{Namespace}/{Name}";
    }
}

/// <summary>One event of a watch stream (ADDED, MODIFIED, DELETED), or the marker that the watch must re-list.</summary>
public sealed record KubeWatchEvent(string Type, JsonObject? Object)
{
    internal static readonly KubeWatchEvent ExpiredEvent = new("EXPIRED", null);

    public bool Expired => Type == "EXPIRED";
}

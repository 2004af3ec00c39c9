using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;

namespace Rotation.Core.Stores.Staging;

/// <summary>A finished HTTP exchange with a store: status, body and the Retry-After it carried.</summary>
internal sealed class StoreResponse
{
    public required HttpStatusCode Status { get; init; }
    public required string Body { get; init; }
    public string? ETag { get; init; }

    public bool IsSuccess => (int)Status is >= 200 and < 300;

    public JsonNode? Json()
    {
        if (string.IsNullOrWhiteSpace(Body))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The server's own explanation (Google error.message, Vault errors[]), short, for error messages.</summary>
    public string ServerMessage()
    {
        var json = Json();
        string? text = null;
        if (json is JsonObject o)
        {
            text = o["error"] is JsonObject e ? (string?)e["message"] : null;
            text ??= o["errors"] is JsonArray a ? string.Join("; ", a.Select(x => x?.ToString())) : null;
            text ??= o["error"] is JsonValue v ? v.ToString() : null;
        }
        text ??= Body;
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length > 300 ? text[..300] + "..." : text;
    }
}

/// <summary>
/// HTTP for the REST stores (Google Secret Manager, Vault): authentication headers, retries where safe, and the
/// mapping of failures to the stable store error ids. Retry rules: 429 and 503 are retried for every request (the
/// server did not act on it), honouring Retry-After; other 5xx, timeouts and dropped connections only for requests the
/// caller marks idempotent, because a write may have been applied before the connection broke.
/// </summary>
internal sealed class StoreHttp
{
    private static readonly SocketsHttpHandler SharedHandler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private readonly HttpClient _client;
    private readonly StoreContext _context;
    private readonly string _target;
    private readonly string _service;
    private readonly Func<HttpRequestMessage, CancellationToken, Task> _authorize;
    private readonly string _authHint;

    public StoreHttp(Uri baseAddress, StoreContext context, string target, string service, Func<HttpRequestMessage, CancellationToken, Task> authorize, string authHint)
    {
        _client = context.HttpHandlerFactory is { } factory
            ? new HttpClient(factory(), disposeHandler: true)
            : new HttpClient(SharedHandler, disposeHandler: false);
        _client.BaseAddress = baseAddress;
        _client.Timeout = Timeout.InfiniteTimeSpan;
        _context = context;
        _target = target;
        _service = service;
        _authorize = authorize;
        _authHint = authHint;
    }

    public Uri BaseAddress => _client.BaseAddress!;

    /// <summary>Sends a request (relative path) and returns any HTTP answer except those retried away.</summary>
    public async Task<StoreResponse> SendAsync(HttpMethod method, string path, JsonNode? body, bool idempotent, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? headers = null, bool authorize = true)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }
            foreach (var (k, v) in headers ?? new Dictionary<string, string>())
            {
                request.Headers.TryAddWithoutValidation(k, v);
            }
            if (authorize)
            {
                await _authorize(request, cancellationToken).ConfigureAwait(false);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_context.RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (IsTls(e))
            {
                throw new RotationException(RotationErrorIds.StoreUnreachable, RotationErrorCategory.SecurityError, _target,
                    $"The TLS handshake with {_service} at {BaseAddress.Authority} failed for '{_target}': the server's certificate was not accepted ({Innermost(e).Message}). " +
                    "Check the endpoint address and the certificate authority this machine trusts.", e);
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (idempotent && attempt < _context.MaxRetries)
                {
                    await Task.Delay(Backoff(attempt), _context.Clock, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var what = e is OperationCanceledException ? $"did not answer within {_context.RequestTimeout}" : $"could not be reached ({Innermost(e).Message})";
                var unknown = idempotent ? string.Empty : " The write may or may not have been applied: read the secret before retrying.";
                throw new RotationException(RotationErrorIds.StoreUnreachable,
                    e is OperationCanceledException ? RotationErrorCategory.OperationTimeout : RotationErrorCategory.ConnectionError, _target,
                    $"{_service} at {BaseAddress.Authority} {what} while working on '{_target}'.{unknown} Check the network and the endpoint, then retry.", e);
            }
            using (response)
            {
                var status = response.StatusCode;
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var retryable = status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                    || (idempotent && (int)status >= 500);
                if (retryable && attempt < _context.MaxRetries)
                {
                    await Task.Delay(RetryAfter(response) ?? Backoff(attempt), _context.Clock, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                return new StoreResponse { Status = status, Body = text, ETag = response.Headers.ETag?.Tag };
            }
        }
    }

    /// <summary>The stable error for a failed answer. Callers handle the statuses that mean something to them first.</summary>
    public RotationException Fail(StoreResponse response, string action)
    {
        var code = (int)response.Status;
        var server = response.ServerMessage();
        return response.Status switch
        {
            HttpStatusCode.Unauthorized => new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, _target,
                $"{_service} rejected the credentials used to {action} '{_target}' (HTTP 401: {server}). The token may have expired or be invalid: {_authHint}"),
            HttpStatusCode.Forbidden => new RotationException(RotationErrorIds.StoreAccessDenied, RotationErrorCategory.PermissionDenied, _target,
                $"The identity used is not allowed to {action} '{_target}' (HTTP 403: {server}). Grant it access to this secret, or use another identity."),
            HttpStatusCode.NotFound => Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, _target,
                $"{_service} has no '{_target}' (HTTP 404 while trying to {action}: {server}). Check the name, or write it first with Set-RotationSecret."),
            HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed => new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, _target,
                $"Another writer changed '{_target}' at the same time (HTTP {code} while trying to {action}: {server}); this write was not applied. Read the secret again and retry."),
            HttpStatusCode.TooManyRequests => new RotationException(RotationErrorIds.StoreThrottled, RotationErrorCategory.LimitsExceeded, _target,
                $"{_service} kept throttling requests to {action} '{_target}' (HTTP 429 after {_context.MaxRetries} retries: {server}). Wait a while and retry, or lower the request rate."),
            _ when code >= 500 => new RotationException(RotationErrorIds.StoreUnreachable, RotationErrorCategory.ResourceUnavailable, _target,
                $"{_service} failed to {action} '{_target}' (HTTP {code}: {server}). Retry later; if it persists, check the service's health."),
            _ => new RotationException(RotationErrorIds.StoreRequestFailed, RotationErrorCategory.InvalidOperation, _target,
                $"{_service} refused to {action} '{_target}' (HTTP {code}: {server})."),
        };
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(5000, 200 * (1 << Math.Min(attempt, 5))));

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var h = response.Headers.RetryAfter;
        TimeSpan? delay = h?.Delta ?? (h?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (delay is null && response.Headers.TryGetValues("Retry-After", out var raw)
            && double.TryParse(raw.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            delay = TimeSpan.FromSeconds(seconds);
        }
        if (delay is null)
        {
            return null;
        }
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxRetryAfter ? MaxRetryAfter : delay;
    }

    private static bool IsTls(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is AuthenticationException)
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

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}

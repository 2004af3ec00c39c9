using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Rotation.Core.Errors;

namespace Rotation.Core.Stores;

/// <summary>
/// The AWS Secrets Manager JSON 1.1 protocol over HttpClient: POST / with X-Amz-Target: secretsmanager.&lt;Op&gt;,
/// signed with SigV4 (<see cref="AwsSigV4"/>). Throttling, 5xx, timeouts and connection failures are retried with
/// jittered exponential backoff up to StoreContext.MaxRetries; every operation the store sends is safe to repeat
/// (writes carry a ClientRequestToken, stage moves are verified by the store). Authentication and permission
/// failures become RotationExceptions here; other 4xx come back as <see cref="AwsErrorException"/> for the store to
/// interpret (a missing secret, a lost compare-and-swap).
/// </summary>
internal sealed partial class AwsSecretsManagerClient
{
    public const string Service = "secretsmanager";

    // One pooled handler for every store in the process (the bench opens a thousand); it holds no per-store state.
    private static readonly HttpClient SharedHttp = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = 128,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly HttpClient _http;
    private readonly StoreContext _context;
    private readonly string _target;
    private readonly AwsCredentialSource _credentials;

    public AwsSecretsManagerClient(string region, StoreContext context, string target)
    {
        if (!RegionPattern().IsMatch(region))
        {
            throw Errors.Errors.InvalidArgument(target, $"'{region}' in '{target}' is not an AWS region name (for example us-east-1): expected aws-sm://<region>/<secret-id>.");
        }
        Region = region;
        _context = context;
        _target = target;
        _http = context.HttpHandlerFactory is { } factory ? new HttpClient(factory(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan } : SharedHttp;
        Endpoint = ResolveEndpoint(region, context, target);
        _credentials = new AwsCredentialSource(context, target);
    }

    public string Region { get; }

    public Uri Endpoint { get; }

    /// <summary>StoreContext.Endpoint (-Endpoint), then AWS_ENDPOINT_URL_SECRETS_MANAGER, then AWS_ENDPOINT_URL, then AWS.</summary>
    public static Uri ResolveEndpoint(string region, StoreContext context, string target)
    {
        var configured = new[] { context.Endpoint, context.GetEnvironmentVariable("AWS_ENDPOINT_URL_SECRETS_MANAGER"), context.GetEnvironmentVariable("AWS_ENDPOINT_URL") }
            .FirstOrDefault(e => !string.IsNullOrWhiteSpace(e));
        if (configured is null)
        {
            return new Uri($"https://secretsmanager.{region}.amazonaws.com/");
        }
        if (!Uri.TryCreate(configured.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw Errors.Errors.InvalidArgument(target, $"The Secrets Manager endpoint '{configured}' for '{target}' is not an http(s) URL.");
        }
        return uri;
    }

    public async Task<JsonElement> CallAsync(string operation, JsonObject body, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        for (var attempt = 0; ; attempt++)
        {
            var retryable = await TryOnceAsync(operation, bytes, cancellationToken).ConfigureAwait(false);
            if (retryable.Result is { } ok)
            {
                return ok;
            }
            if (attempt >= _context.MaxRetries)
            {
                throw retryable.Failure!;
            }
            // Full jitter: spreads a burst of throttled clients (the bench) instead of retrying them in lock step.
            var cap = Math.Min(5000, 100 * (1 << Math.Min(attempt, 6)));
            await Task.Delay(RandomNumberGenerator.GetInt32(cap / 2, cap + 1), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(JsonElement? Result, RotationException? Failure)> TryOnceAsync(string operation, byte[] bytes, CancellationToken cancellationToken)
    {
        var credentials = await _credentials.GetAsync(cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", Service + "." + operation);
        AwsSigV4.Sign(request, bytes, credentials, Region, Service, _context.Clock.GetUtcNow().UtcDateTime);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_context.RequestTimeout);
        HttpResponseMessage response;
        string text;
        try
        {
            response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return (null, Unreachable($"cannot be reached ({ex.HttpRequestError})", ex));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, Unreachable($"did not answer {operation} within {_context.RequestTimeout.TotalSeconds:0} s", ex));
        }
        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
                    return (doc.RootElement.Clone(), null);
                }
                catch (JsonException ex)
                {
                    throw new RotationException(RotationErrorIds.StoreRequestFailed, RotationErrorCategory.ProtocolError, _target,
                        $"AWS Secrets Manager at {Endpoint} answered {operation} for '{_target}' with something that is not JSON. Check the endpoint.", ex);
                }
            }
            var (type, message) = ParseError(response, text);
            var status = (int)response.StatusCode;
            if (IsThrottle(type) || status == 429)
            {
                return (null, new RotationException(RotationErrorIds.StoreThrottled, RotationErrorCategory.LimitsExceeded, _target,
                    $"AWS Secrets Manager throttled {operation} on '{_target}' ({type}) after {_context.MaxRetries + 1} attempts. Retry later or lower the parallelism."));
            }
            if (status >= 500)
            {
                return (null, Unreachable($"failed {operation} with HTTP {status} ({type})", null));
            }
            throw Classify(operation, status, type, message);
        }
    }

    private Exception Classify(string operation, int status, string type, string message)
    {
        var detail = Trim(message);
        if (type is "UnrecognizedClientException" or "InvalidSignatureException" or "SignatureDoesNotMatch" or "IncompleteSignature"
            or "IncompleteSignatureException" or "MissingAuthenticationToken" or "MissingAuthenticationTokenException" or "InvalidClientTokenId"
            or "ExpiredToken" or "ExpiredTokenException" or "AuthFailure" or "InvalidAccessKeyId" || status == 401)
        {
            return new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, _target,
                $"AWS Secrets Manager did not accept the credentials for '{_target}' ({type}: {detail}). Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the profile or the SSO session, and the system clock.");
        }
        if (type is "AccessDeniedException" or "AccessDenied" || status == 403)
        {
            return new RotationException(RotationErrorIds.StoreAccessDenied, RotationErrorCategory.PermissionDenied, _target,
                $"AWS Secrets Manager denied {operation} on '{_target}' ({type}: {detail}). Grant secretsmanager:{operation} on this secret to the identity in use.");
        }
        return new AwsErrorException(operation, status, type, detail);
    }

    private static (string Type, string Message) ParseError(HttpResponseMessage response, string text)
    {
        string? type = null;
        string? message = null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.NameEquals("__type") || p.NameEquals("code") || p.NameEquals("Code"))
                    {
                        type ??= p.Value.ToString();
                    }
                    else if (p.NameEquals("message") || p.NameEquals("Message"))
                    {
                        message ??= p.Value.ToString();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Some front ends (and moto's signature check) answer in XML.
            type = XmlCode().Match(text) is { Success: true } m ? m.Groups[1].Value : null;
            message = XmlMessage().Match(text) is { Success: true } mm ? mm.Groups[1].Value : null;
        }
        if (type is null && response.Headers.TryGetValues("x-amzn-ErrorType", out var values))
        {
            type = values.First().Split(':')[0];
        }
        type = type is null ? $"HTTP{(int)response.StatusCode}" : type[(type.LastIndexOf('#') + 1)..];
        return (type, message ?? string.Empty);
    }

    private static bool IsThrottle(string type) => type is "ThrottlingException" or "Throttling" or "TooManyRequestsException" or "RequestLimitExceeded"
        or "ProvisionedThroughputExceededException" or "SlowDown";

    private static string Trim(string message) => message.Length <= 300 ? message : message[..300] + "...";

    private RotationException Unreachable(string what, Exception? inner) =>
        new(RotationErrorIds.StoreUnreachable, RotationErrorCategory.ConnectionError, _target,
            $"AWS Secrets Manager at {Endpoint} {what} for '{_target}' after {_context.MaxRetries + 1} attempts. Check the endpoint, the network, and the AWS service health; retrying later is safe.", inner);

    [GeneratedRegex("^[a-z]{2}(-[a-z0-9]+)+-?[0-9]*$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("<Code>([^<]+)</Code>")]
    private static partial Regex XmlCode();

    [GeneratedRegex("<Message>([^<]*)</Message>")]
    private static partial Regex XmlMessage();
}

/// <summary>A 4xx answer the store interprets itself (ResourceNotFoundException, InvalidParameterException, ...).</summary>
internal sealed class AwsErrorException(string operation, int status, string type, string detail)
    : Exception($"{operation} failed with HTTP {status} {type}: {detail}")
{
    public string Operation { get; } = operation;
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string Detail { get; } = detail;
}

/// <summary>
/// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN from StoreContext's environment
/// first (the same first step as the SDK's chain, read through the context so tests and callers can supply them
/// without touching the process), then AWSSDK.Core's default chain: process environment, shared credentials and
/// config files (profiles, SSO, credential_process, web identity), container and instance metadata.
/// </summary>
internal sealed class AwsCredentialSource(StoreContext context, string target)
{
    private AWSCredentials? _chain;

    public async Task<ImmutableCredentials> GetAsync(CancellationToken cancellationToken)
    {
        var id = context.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secret = context.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (!string.IsNullOrEmpty(id) && !string.IsNullOrEmpty(secret))
        {
            var token = context.GetEnvironmentVariable("AWS_SESSION_TOKEN");
            return new ImmutableCredentials(id, secret, string.IsNullOrEmpty(token) ? null : token);
        }
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _chain ??= await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(null).ConfigureAwait(false);
            return await _chain.GetCredentialsAsync().ConfigureAwait(false);
        }
        catch (AmazonClientException ex)
        {
            throw new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, target,
                $"No AWS credentials were found for '{target}'. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (shared profiles and SSO; run 'aws sso login' first).", ex);
        }
    }
}

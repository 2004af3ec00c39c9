using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Rotation.Core.Errors;

namespace Rotation.Core.Stores.Google;

/// <summary>
/// Where a Google access token comes from, in order: an access token in the environment (CI:
/// GOOGLE_OAUTH_ACCESS_TOKEN, or CLOUDSDK_AUTH_ACCESS_TOKEN as gcloud reads it), a credentials file named by
/// GOOGLE_APPLICATION_CREDENTIALS (service account key, workload identity federation config, authorized user),
/// then Application Default Credentials (gcloud user credentials, the metadata server on GCE/GKE).
/// </summary>
internal sealed class GoogleAccessTokens
{
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
    public const string AuthHint = "set GOOGLE_OAUTH_ACCESS_TOKEN to a fresh token ('gcloud auth print-access-token'), point " +
        "GOOGLE_APPLICATION_CREDENTIALS at a service account key or workload identity configuration, or run 'gcloud auth application-default login'.";

    private readonly StoreContext _context;
    private readonly string _target;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ITokenAccess? _credential;

    public GoogleAccessTokens(StoreContext context, string target)
    {
        _context = context;
        _target = target;
    }

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        var fromEnvironment = Env("GOOGLE_OAUTH_ACCESS_TOKEN") ?? Env("CLOUDSDK_AUTH_ACCESS_TOKEN");
        if (fromEnvironment is not null)
        {
            return fromEnvironment;
        }
        try
        {
            var credential = await CredentialAsync(cancellationToken).ConfigureAwait(false);
            return await credential.GetAccessTokenForRequestAsync(null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TokenResponseException or IOException or HttpRequestException or System.Text.Json.JsonException)
        {
            throw new RotationException(RotationErrorIds.StoreAuthenticationFailed, RotationErrorCategory.AuthenticationError, _target,
                $"No Google credentials could be obtained for '{_target}' ({e.GetType().Name}: {e.Message}). To fix: {AuthHint}", e);
        }
    }

    private async Task<ITokenAccess> CredentialAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_credential is null)
            {
                // The key file is read through the store context (not the process environment) so tests stay parallel-safe.
                var file = Env("GOOGLE_APPLICATION_CREDENTIALS");
                var credential = file is not null
                    ? await FromFileAsync(file, cancellationToken).ConfigureAwait(false)
                    : await GoogleCredential.GetApplicationDefaultAsync(cancellationToken).ConfigureAwait(false);
                _credential = credential.CreateScoped(CloudPlatformScope);
            }
            return _credential;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Loads a credentials file by its declared type (the library asks callers to name the type they accept).</summary>
    private static async Task<GoogleCredential> FromFileAsync(string path, CancellationToken cancellationToken)
    {
        string? type;
        using (var doc = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)))
        {
            type = doc.RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
        }
        if (type is not (JsonCredentialParameters.ServiceAccountCredentialType or JsonCredentialParameters.ExternalAccountCredentialType
            or JsonCredentialParameters.AuthorizedUserCredentialType or JsonCredentialParameters.ImpersonatedServiceAccountCredentialType
            or JsonCredentialParameters.ExternalAccountAuthorizedUserCredentialType))
        {
            throw new InvalidOperationException($"The credentials file '{path}' has type '{type}', which is not a Google credential type.");
        }
        return await CredentialFactory.FromFileAsync(path, type, cancellationToken).ConfigureAwait(false);
    }

    private string? Env(string name) => _context.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

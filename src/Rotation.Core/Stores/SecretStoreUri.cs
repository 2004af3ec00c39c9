using Rotation.Core.Errors;

namespace Rotation.Core.Stores;

/// <summary>
/// A store address (DESIGN.md section 2):
/// <c>file://&lt;path&gt;#&lt;name&gt;[#field]</c>, <c>aws-sm://&lt;region&gt;/&lt;secret-id&gt;[#field]</c>,
/// <c>k8s://&lt;context&gt;/&lt;namespace&gt;/&lt;secret&gt;[#key]</c>, <c>gcp-sm://&lt;project&gt;/&lt;secret&gt;[#field]</c>,
/// <c>azure-kv://&lt;vault&gt;/&lt;secret&gt;[#field]</c>, <c>vault://&lt;mount&gt;/&lt;path&gt;[#field]</c>.
/// Parsed by hand rather than System.Uri: secret ids contain slashes, file paths are not URLs.
/// </summary>
public sealed class SecretStoreUri : IEquatable<SecretStoreUri>
{
    public const string File = "file";
    public const string AwsSecretsManager = "aws-sm";
    public const string Kubernetes = "k8s";
    public const string GoogleSecretManager = "gcp-sm";
    public const string AzureKeyVault = "azure-kv";
    public const string Vault = "vault";

    public static readonly IReadOnlyList<string> KnownSchemes = [File, AwsSecretsManager, Kubernetes, GoogleSecretManager, AzureKeyVault, Vault];

    private SecretStoreUri(string original, string scheme, string authority, string path, string? field)
    {
        Original = original;
        Scheme = scheme;
        Authority = authority;
        Path = path;
        Field = field;
    }

    public string Original { get; }

    public string Scheme { get; }

    /// <summary>file: the file path; aws-sm: region; k8s: context; gcp-sm: project; azure-kv: vault; vault: mount.</summary>
    public string Authority { get; }

    /// <summary>file: the secret's name in the document; aws-sm: secret id; k8s: namespace/secret; gcp-sm,
    /// azure-kv: secret name; vault: the path under the mount.</summary>
    public string Path { get; }

    /// <summary>The field addressed by <c>#key</c>: reads return that field, writes set it and keep the others.</summary>
    public string? Field { get; }

    /// <summary>The same secret without the field part.</summary>
    public SecretStoreUri WithoutField() => Field is null ? this : new SecretStoreUri(StripField(Original), Scheme, Authority, Path, null);

    public static SecretStoreUri Parse(string uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw Invalid(uri ?? string.Empty, "The store URI is empty.");
        }
        var sep = uri.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0)
        {
            throw Invalid(uri, $"'{uri}' is not a store URI: expected <scheme>://..., with scheme one of {string.Join(", ", KnownSchemes)}.");
        }
        var scheme = uri[..sep].ToLowerInvariant();
        var rest = uri[(sep + 3)..];
        if (!KnownSchemes.Contains(scheme))
        {
            throw new RotationException(RotationErrorIds.UnknownStoreScheme, RotationErrorCategory.InvalidArgument, uri,
                $"The store scheme '{scheme}' is not known. Known schemes: {string.Join(", ", KnownSchemes.Select(s => s + "://"))}.");
        }

        if (scheme == File)
        {
            var hash = rest.IndexOf('#', StringComparison.Ordinal);
            if (hash <= 0 || hash == rest.Length - 1)
            {
                throw Invalid(uri, $"'{uri}' needs a file path and a secret name: file://<path>#<name>, for example file:///var/lib/app/secrets.json#db-password.");
            }
            var path = rest[..hash];
            var fragment = rest[(hash + 1)..];
            var fieldSep = fragment.IndexOf('#', StringComparison.Ordinal);
            string? field = null;
            if (fieldSep >= 0)
            {
                field = fragment[(fieldSep + 1)..];
                fragment = fragment[..fieldSep];
                if (field.Length == 0 || fragment.Length == 0)
                {
                    throw Invalid(uri, $"'{uri}' has an empty secret name or field.");
                }
            }
            return new SecretStoreUri(uri, scheme, path, fragment, field);
        }

        string? key = null;
        var h = rest.IndexOf('#', StringComparison.Ordinal);
        if (h >= 0)
        {
            key = rest[(h + 1)..];
            rest = rest[..h];
            if (key.Length == 0)
            {
                throw Invalid(uri, $"'{uri}' ends with '#' but names no field.");
            }
        }
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            throw Invalid(uri, $"'{uri}' is incomplete: expected {Shape(scheme)}.");
        }
        var authority = rest[..slash];
        var p = rest[(slash + 1)..].TrimEnd('/');
        if (scheme == Kubernetes && p.Split('/').Length != 2)
        {
            throw Invalid(uri, $"'{uri}' is incomplete: expected {Shape(scheme)}.");
        }
        if (p.Split('/').Any(string.IsNullOrEmpty))
        {
            throw Invalid(uri, $"'{uri}' has an empty path segment: expected {Shape(scheme)}.");
        }
        return new SecretStoreUri(uri, scheme, authority, p, key);
    }

    public static bool TryParse(string uri, out SecretStoreUri? result)
    {
        try
        {
            result = Parse(uri);
            return true;
        }
        catch (RotationException)
        {
            result = null;
            return false;
        }
    }

    public static string Shape(string scheme) => scheme switch
    {
        File => "file://<path>#<name>",
        AwsSecretsManager => "aws-sm://<region>/<secret-id>[#field]",
        Kubernetes => "k8s://<context>/<namespace>/<secret>[#key]",
        GoogleSecretManager => "gcp-sm://<project>/<secret>[#field]",
        AzureKeyVault => "azure-kv://<vault>/<secret>[#field]",
        Vault => "vault://<mount>/<path>[#field]",
        _ => scheme + "://...",
    };

    public override string ToString() => Original;

    public bool Equals(SecretStoreUri? other) => other is not null && string.Equals(Original, other.Original, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as SecretStoreUri);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Original);

    private static string StripField(string original)
    {
        var i = original.LastIndexOf('#');
        return i < 0 ? original : original[..i];
    }

    private static RotationException Invalid(string uri, string message) =>
        new(RotationErrorIds.InvalidStoreUri, RotationErrorCategory.InvalidArgument, uri, message);
}

using Rotation.Core.Errors;

namespace Rotation.Core.Stores;

/// <summary>
/// Opens a store for a URI. Each backend registers its scheme in <see cref="CreateDefault"/>. Stores that do not
/// address fields natively are wrapped in <see cref="FieldScopedStore"/> when the URI has a <c>#field</c>.
/// </summary>
public sealed class SecretStoreRegistry
{
    private readonly Dictionary<string, (Func<SecretStoreUri, StoreContext, ISecretStore> Open, bool NativeFields)> _factories = new(StringComparer.Ordinal);

    public static SecretStoreRegistry CreateDefault()
    {
        var r = new SecretStoreRegistry();
        // Backends register here (one line each).
        r.Register(SecretStoreUri.File, (uri, ctx) => new FileSecretStore(uri, ctx));
        r.Register(SecretStoreUri.AwsSecretsManager, (uri, ctx) => new AwsSecretsManagerStore(uri, ctx));
        r.Register(SecretStoreUri.Kubernetes, Kubernetes.KubeSecretStore.Open, handlesFieldsNatively: true);
        r.Register(SecretStoreUri.GoogleSecretManager, (uri, context) => new Google.GoogleSecretManagerStore(uri, context));
        r.Register(SecretStoreUri.AzureKeyVault, (uri, context) => new Azure.AzureKeyVaultStore(uri, context));
        r.Register(SecretStoreUri.Vault, (uri, context) => new Vault.VaultKvStore(uri, context));
        return r;
    }

    public void Register(string scheme, Func<SecretStoreUri, StoreContext, ISecretStore> open, bool handlesFieldsNatively = false) =>
        _factories[scheme] = (open, handlesFieldsNatively);

    public IReadOnlyCollection<string> Schemes => _factories.Keys;

    public ISecretStore Open(string uri, StoreContext? context = null) => Open(SecretStoreUri.Parse(uri), context);

    public ISecretStore Open(SecretStoreUri uri, StoreContext? context = null)
    {
        if (!_factories.TryGetValue(uri.Scheme, out var f))
        {
            throw new RotationException(RotationErrorIds.UnknownStoreScheme, RotationErrorCategory.NotImplemented, uri.Original,
                $"The store scheme '{uri.Scheme}' is not available in this build. Available: {string.Join(", ", _factories.Keys.Order())}.");
        }
        context ??= StoreContext.Default;
        if (uri.Field is not null && !f.NativeFields)
        {
            return new FieldScopedStore(uri, f.Open(uri.WithoutField(), context));
        }
        return f.Open(uri, context);
    }
}

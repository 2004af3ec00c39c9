using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using static Rotation.Core.Kubernetes.KubeSecretDocument;

namespace Rotation.Core.Kubernetes;

/// <summary>
/// <c>k8s://&lt;context&gt;/&lt;namespace&gt;/&lt;secret&gt;[#key]</c>: a Kubernetes Secret as a Rotation store. The whole
/// secret's value is the map of its keys; <c>#key</c> reads one key and writes it keeping the others. Stages are
/// emulated inside the one Secret (see <see cref="KubeSecretDocument"/>): consumers always read Current, and every
/// transition is a single PUT guarded by the resourceVersion read, re-evaluated on 409.
/// </summary>
public sealed class KubeSecretStore : ISecretStore, IDisposable
{
    private readonly KubeClient _client;
    private readonly bool _ownsClient;
    private readonly string _namespace;
    private readonly string _name;
    private readonly string? _key;

    public KubeSecretStore(SecretStoreUri uri, KubeClient client, bool ownsClient = false)
    {
        if (uri.Scheme != SecretStoreUri.Kubernetes)
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"'{uri}' is not a k8s:// address.");
        }
        Uri = uri;
        _client = client;
        _ownsClient = ownsClient;
        var parts = uri.Path.Split('/');
        _namespace = parts[0];
        _name = parts[1];
        _key = uri.Field;
        if (_key is PendingKey or PreviousKey)
        {
            throw Errors.Errors.InvalidArgument(uri.Original, $"'{_key}' is reserved for Rotation's staged copies; address another key.");
        }
    }

    /// <summary>Registry entry point: opens the context named by the URI's authority.</summary>
    public static ISecretStore Open(SecretStoreUri uri, StoreContext context) =>
        new KubeSecretStore(uri, KubeClient.Open(uri.Authority, context), ownsClient: true);

    public SecretStoreUri Uri { get; }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    public async Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
    {
        var doc = await ReadAsync(cancellationToken).ConfigureAwait(false)
            ?? throw Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Uri.Original,
                $"The Secret '{_namespace}/{_name}' does not exist in context '{_client.Context}'. Create it by writing a value to '{Uri}'.");
        var (fields, info) = Stage(doc, stage);
        if (fields is null || info is null)
        {
            throw Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, Uri.Original, $"'{Uri}' has no {stage} version.");
        }
        return ToStored(fields, info, Stages(doc, info.Version));
    }

    public async Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var doc = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (doc is null)
        {
            return new SecretDescription { Uri = Uri, Exists = false, Versions = [] };
        }
        var versions = new List<SecretVersionInfo>();
        foreach (var stage in new[] { SecretStage.Current, SecretStage.Pending, SecretStage.Previous })
        {
            var (fields, info) = Stage(doc, stage);
            if (fields is null || info is null || versions.Any(v => v.VersionId == info.Version))
            {
                continue;
            }
            versions.Add(new SecretVersionInfo
            {
                VersionId = info.Version,
                Stages = Stages(doc, info.Version),
                CreatedAt = info.CreatedAt,
                RunId = info.RunId,
                Fingerprint = Value(fields, info).Fingerprint,
            });
        }
        return new SecretDescription { Uri = Uri, Exists = true, Versions = versions };
    }

    public async Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        if (stage == SecretStage.Previous)
        {
            throw Errors.Errors.InvalidArgument(Uri.Original, "A value is written as Pending or Current; Previous is only reached by Complete or a Current write.");
        }
        if (_key is not null && value.IsFields)
        {
            throw Errors.Errors.InvalidArgument(Uri.Original, $"'{Uri}' addresses the single key '{_key}'; write a single string to it, or address the whole secret without '#{_key}'.");
        }
        StoredSecret? result = null;
        await WriteAsync(doc =>
        {
            var now = _client.Clock.GetUtcNow();
            doc ??= New(_namespace, _name);
            var token = options.ClientRequestToken;
            if (stage == SecretStage.Pending)
            {
                if (token is not null && doc.Stages.Pending?.Version == token && doc.PendingFields is not null)
                {
                    result = ToStored(doc.PendingFields, doc.Stages.Pending, [SecretStage.Pending]);
                    return null;
                }
                if (token is not null && doc.CurrentInfo?.Version == token)
                {
                    result = ToStored(doc.Plain, doc.CurrentInfo, Stages(doc, token));
                    return null;
                }
                if (doc.Stages.Pending is { } held && doc.PendingFields is not null && !string.Equals(held.RunId, options.RunId, StringComparison.Ordinal))
                {
                    throw StoreErrors.InProgress(Uri.Original, held.RunId);
                }
                // A second key of the same run builds on that run's pending document; otherwise on Current.
                var baseFields = doc.PendingFields is not null && doc.Stages.Pending is not null ? doc.PendingFields : doc.Plain;
                var (fields, text) = Compose(baseFields, value);
                var info = NewInfo(token, options.RunId, now, fields, text);
                doc.PendingFields = fields;
                doc.Stages.Pending = info;
                result = ToStored(fields, info, [SecretStage.Pending]);
                return doc;
            }

            if (doc.Stages.Pending is { } pending && doc.PendingFields is not null)
            {
                throw StoreErrors.InProgress(Uri.Original, pending.RunId);
            }
            if (token is not null && doc.CurrentInfo?.Version == token)
            {
                result = ToStored(doc.Plain, doc.CurrentInfo, Stages(doc, token));
                return null;
            }
            var (newFields, newText) = Compose(doc.Plain, value);
            var newInfo = NewInfo(token, options.RunId, now, newFields, newText);
            Promote(doc, newFields, newInfo, now);
            result = ToStored(newFields, newInfo, [SecretStage.Current]);
            return doc;
        }, cancellationToken).ConfigureAwait(false);
        return result!;
    }

    public async Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default)
    {
        StoredSecret? result = null;
        await WriteAsync(doc =>
        {
            if (doc is null)
            {
                throw Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Uri.Original, $"The Secret '{_namespace}/{_name}' does not exist in context '{_client.Context}'.");
            }
            if (doc.Stages.Pending is not { } pending || doc.PendingFields is null)
            {
                if (expectedVersionId is not null && doc.CurrentInfo?.Version == expectedVersionId)
                {
                    result = ToStored(doc.Plain, doc.CurrentInfo, Stages(doc, expectedVersionId));
                    return null;
                }
                throw Errors.Errors.NotFound(RotationErrorIds.NoPendingVersion, Uri.Original, $"'{Uri}' has no Pending version to complete.");
            }
            if (expectedVersionId is not null && pending.Version != expectedVersionId)
            {
                throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Uri.Original,
                    $"'{Uri}' has Pending version {pending.Version}, not the expected {expectedVersionId}; nothing was promoted.");
            }
            var fields = doc.PendingFields;
            doc.PendingFields = null;
            doc.Stages.Pending = null;
            Promote(doc, fields, pending, _client.Clock.GetUtcNow());
            result = ToStored(fields, pending, [SecretStage.Current]);
            return doc;
        }, cancellationToken).ConfigureAwait(false);
        return result!;
    }

    public async Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default)
    {
        StoredSecret? result = null;
        await WriteAsync(doc =>
        {
            if (doc is null)
            {
                throw Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Uri.Original, $"The Secret '{_namespace}/{_name}' does not exist in context '{_client.Context}'.");
            }
            if (doc.PreviousFields is null || doc.Stages.Previous is not { } previous)
            {
                throw Errors.Errors.NotFound(RotationErrorIds.NoPreviousVersion, Uri.Original, $"'{Uri}' has no Previous version to go back to.");
            }
            var fields = doc.PreviousFields;
            doc.PreviousFields = null;
            doc.Stages.Previous = null;
            Promote(doc, fields, previous, _client.Clock.GetUtcNow());
            result = ToStored(fields, previous, [SecretStage.Current]);
            return doc;
        }, cancellationToken).ConfigureAwait(false);
        return result!;
    }

    public async Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default) =>
        await WriteAsync(doc =>
        {
            if (doc?.Stages.Pending is not { } pending || (runId is not null && !string.Equals(pending.RunId, runId, StringComparison.Ordinal)))
            {
                return null;
            }
            doc.PendingFields = null;
            doc.Stages.Pending = null;
            return doc;
        }, cancellationToken).ConfigureAwait(false);

    // The old Current (if any) becomes Previous; the new fields become what pods read.
    private static void Promote(KubeSecretDocument doc, SortedDictionary<string, string> fields, StageInfo info, DateTimeOffset now)
    {
        if (doc.CurrentInfo is { } old)
        {
            doc.PreviousFields = new SortedDictionary<string, string>(doc.Plain, StringComparer.Ordinal);
            doc.Stages.Previous = old;
        }
        doc.SetPlain(fields, now);
        doc.Stages.Current = info;
    }

    private (SortedDictionary<string, string> Fields, bool Text) Compose(IDictionary<string, string> baseFields, SecretValue value)
    {
        if (_key is not null)
        {
            return (new SortedDictionary<string, string>(baseFields, StringComparer.Ordinal) { [_key] = value.Text }, false);
        }
        if (!value.IsFields && !value.Text.TrimStart().StartsWith('{'))
        {
            // One string for the whole secret: kept under 'value', and read back as one string.
            return (new SortedDictionary<string, string>(StringComparer.Ordinal) { [KubeSecretDocument.TextKey] = value.Text }, true);
        }
        var map = value.AsFields(Uri.Original);
        if (map.Count == 0)
        {
            throw new RotationException(RotationErrorIds.SecretShapeInvalid, RotationErrorCategory.InvalidData, Uri.Original,
                $"A Kubernetes Secret needs at least one key: write a map of fields to '{Uri}', or address one key with '#key'.");
        }
        if (map.Keys.FirstOrDefault(k => k is PendingKey or PreviousKey || !IsValidKey(k)) is { } bad)
        {
            throw new RotationException(RotationErrorIds.SecretShapeInvalid, RotationErrorCategory.InvalidData, Uri.Original,
                $"'{bad}' cannot be a key of a Kubernetes Secret (keys are [-._a-zA-Z0-9]+, and .rotation-* is reserved).");
        }
        return (new SortedDictionary<string, string>(map.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal), false);
    }

    internal static bool IsValidKey(string key) =>
        key.Length is > 0 and <= 253 && key is not "." and not ".." && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static StageInfo NewInfo(string? token, string? runId, DateTimeOffset now, SortedDictionary<string, string> fields, bool text) => new()
    {
        Version = token ?? Guid.NewGuid().ToString(),
        RunId = runId,
        CreatedAt = now,
        Fingerprint = SecretValue.FromFields(fields).Fingerprint,
        Text = text ? true : null,
    };

    private static (SortedDictionary<string, string>? Fields, StageInfo? Info) Stage(KubeSecretDocument doc, SecretStage stage) => stage switch
    {
        SecretStage.Current => (doc.HasCurrent ? doc.Plain : null, doc.CurrentInfo),
        SecretStage.Pending => (doc.PendingFields, doc.Stages.Pending),
        _ => (doc.PreviousFields, doc.Stages.Previous),
    };

    private static IReadOnlyList<SecretStage> Stages(KubeSecretDocument doc, string version)
    {
        var stages = new List<SecretStage>();
        if (doc.CurrentInfo?.Version == version)
        {
            stages.Add(SecretStage.Current);
        }
        if (doc.PendingFields is not null && doc.Stages.Pending?.Version == version)
        {
            stages.Add(SecretStage.Pending);
        }
        if (doc.PreviousFields is not null && doc.Stages.Previous?.Version == version)
        {
            stages.Add(SecretStage.Previous);
        }
        return stages;
    }

    private SecretValue Value(IDictionary<string, string> fields, StageInfo? info)
    {
        if (_key is null)
        {
            return info?.Text == true && fields.Count == 1 && fields.TryGetValue(KubeSecretDocument.TextKey, out var text)
                ? SecretValue.FromText(text)
                : SecretValue.FromFields(fields);
        }
        return fields.TryGetValue(_key, out var v)
            ? SecretValue.FromText(v)
            : throw Errors.Errors.NotFound(RotationErrorIds.SecretFieldNotFound, Uri.Original,
                $"The Secret '{_namespace}/{_name}' has no key '{_key}'. Its keys are: {string.Join(", ", fields.Keys)}.");
    }

    private StoredSecret ToStored(IDictionary<string, string> fields, StageInfo info, IReadOnlyList<SecretStage> stages) => new()
    {
        Uri = Uri,
        VersionId = info.Version,
        Stages = stages,
        CreatedAt = info.CreatedAt,
        RunId = info.RunId,
        Value = Value(fields, info),
    };

    private async Task<KubeSecretDocument?> ReadAsync(CancellationToken cancellationToken)
    {
        var obj = await Translate(() => _client.TryGetAsync(KubeResourceType.Secrets, _namespace, _name, cancellationToken)).ConfigureAwait(false);
        return obj is null ? null : From(obj);
    }

    private Task<System.Text.Json.Nodes.JsonObject?> WriteAsync(Func<KubeSecretDocument?, KubeSecretDocument?> change, CancellationToken cancellationToken) =>
        Translate(() => _client.UpdateAsync(KubeResourceType.Secrets, _namespace, _name,
            obj => change(obj is null ? null : From(obj))?.Serialize(), cancellationToken));

    /// <summary>The store contract speaks in store error ids (scripts match them across backends); the Kubernetes
    /// detail stays in the message and the inner exception.</summary>
    private async Task<T> Translate<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RotationException ex) when (StoreId(ex.ErrorId) is { } id)
        {
            throw new RotationException(id, ex.Category, Uri.Original, ex.Message, ex);
        }
    }

    private static string? StoreId(string kubeId) => kubeId switch
    {
        RotationErrorIds.KubeObjectNotFound => RotationErrorIds.SecretNotFound,
        RotationErrorIds.KubeForbidden => RotationErrorIds.StoreAccessDenied,
        RotationErrorIds.KubeUnauthorized => RotationErrorIds.StoreAuthenticationFailed,
        RotationErrorIds.KubeConflict => RotationErrorIds.StoreWriteConflict,
        RotationErrorIds.KubeUnreachable => RotationErrorIds.StoreUnreachable,
        RotationErrorIds.KubeRequestFailed => RotationErrorIds.StoreRequestFailed,
        _ => null,
    };
}

using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Kubernetes;

/// <summary>
/// What the Kube cmdlets call: whole-secret reads and writes, rollout restarts and verified waits, secret consumers,
/// External Secrets syncs. One client per context for the life of a cmdlet call.
/// </summary>
public sealed partial class KubeOperations : IDisposable
{
    private readonly Func<string?, KubeClient> _open;
    private readonly Dictionary<string, KubeClient> _clients = new(StringComparer.Ordinal);

    public KubeOperations(Func<string?, KubeClient> open) => _open = open;

    public static KubeOperations Create(StoreContext context, IRotationLog? log = null, IAuditSink? audit = null, string? performedBy = null) =>
        new(c => KubeClient.Open(c, context)) { Log = log ?? NullRotationLog.Instance, Audit = audit, PerformedBy = performedBy };

    public IRotationLog Log { get; init; } = NullRotationLog.Instance;

    /// <summary>Where state changes are recorded (restart, secret write, sync, verified rollout). Null: not audited.</summary>
    public IAuditSink? Audit { get; init; }

    public string? PerformedBy { get; init; }

    /// <summary>Runs a state change and writes its audit record, success or failure (never a value).</summary>
    internal async Task<T> AuditedAsync<T>(string eventName, string target, Func<Task<T>> change, Func<T, string?>? fingerprint = null)
    {
        T result;
        try
        {
            result = await change().ConfigureAwait(false);
        }
        catch (RotationException ex)
        {
            WriteAudit(eventName, target, false, null, ex.ErrorId + ": " + ex.Message);
            throw;
        }
        WriteAudit(eventName, target, true, fingerprint?.Invoke(result), null);
        return result;
    }

    internal void WriteAudit(string eventName, string target, bool success, string? fingerprint, string? error) =>
        Audit?.Write(new RotationAuditRecord
        {
            Timestamp = DateTimeOffset.UtcNow,
            Event = eventName,
            CredentialType = "kubernetes",
            Target = target,
            PerformedBy = PerformedBy,
            Success = success,
            Fingerprint = fingerprint,
            Error = error,
        });

    public void Dispose()
    {
        foreach (var c in _clients.Values)
        {
            c.Dispose();
        }
    }

    internal KubeClient Client(string? context)
    {
        lock (_clients)
        {
            var key = context ?? string.Empty;
            if (!_clients.TryGetValue(key, out var c))
            {
                c = _open(context);
                _clients[key] = c;
            }
            return c;
        }
    }

    // ---- whole secrets -------------------------------------------------------------------------------------------

    public async Task<KubeSecret> GetSecretAsync(string? context, string? ns, string name, bool asPlainText = false, CancellationToken cancellationToken = default)
    {
        var client = Client(context);
        ns ??= client.DefaultNamespace;
        var obj = await client.GetAsync(KubeResourceType.Secrets, ns, name, cancellationToken).ConfigureAwait(false);
        return ToKubeSecret(client.Context, ns, obj, asPlainText);
    }

    /// <summary>
    /// Writes a whole Secret: creates it, or replaces its keys (with <see cref="KubeSecretWrite.Merge"/>: sets the
    /// given keys and keeps the others). With ExpectedResourceVersion the write happens only if nobody changed the
    /// Secret since that version (one conditional PUT); without it, a 409 is retried on a fresh read. Refuses while a
    /// rotation holds a Pending lease on the Secret. Rotation's staged copies and annotations are kept.
    /// </summary>
    public async Task<KubeSecret> SetSecretAsync(KubeSecretWrite write, CancellationToken cancellationToken = default)
    {
        var client = Client(write.Context);
        var ns = write.Namespace ?? client.DefaultNamespace;
        var target = $"k8s://{client.Context}/{ns}/{write.Name}";
        var keys = (write.Data?.Keys ?? []).Concat(write.StringData?.Keys ?? []).ToList();
        if (keys.Count == 0)
        {
            throw Errors.Errors.InvalidArgument(target, "Give at least one key in -Data or -StringData.");
        }
        if (keys.FirstOrDefault(k => !KubeSecretStore.IsValidKey(k) || k is KubeSecretDocument.PendingKey or KubeSecretDocument.PreviousKey) is { } bad)
        {
            throw Errors.Errors.InvalidArgument(target, $"'{bad}' cannot be a key of a Kubernetes Secret (keys are [-._a-zA-Z0-9]+, and .rotation-* is reserved).");
        }
        JsonObject? Change(JsonObject? current)
        {
            if (write.ExpectedResourceVersion is { } expected)
            {
                if (current is null)
                {
                    throw Errors.Errors.NotFound(RotationErrorIds.KubeObjectNotFound, target,
                        $"The Secret '{ns}/{write.Name}' does not exist in context '{client.Context}', but -ExpectedResourceVersion {expected} was given; nothing was written.");
                }
                var actual = current["metadata"]?["resourceVersion"]?.GetValue<string>();
                if (actual != expected)
                {
                    throw new RotationException(RotationErrorIds.KubeConflict, RotationErrorCategory.ResourceBusy, target,
                        $"The Secret '{ns}/{write.Name}' in context '{client.Context}' is at resourceVersion {actual}, not the expected {expected}: someone changed it since you read it. Nothing was written; read it again and retry.");
                }
            }
            var obj = current ?? KubeSecretDocument.New(ns, write.Name).Object;
            var doc = KubeSecretDocument.From(obj);
            if (doc.Stages.Pending is { } pending && doc.PendingFields is not null)
            {
                throw StoreErrors.InProgress(target, pending.RunId);
            }
            var data = obj["data"] as JsonObject ?? new JsonObject();
            if (!write.Merge)
            {
                foreach (var k in data.Select(kv => kv.Key).Where(k => k is not KubeSecretDocument.PendingKey and not KubeSecretDocument.PreviousKey).ToList())
                {
                    data.Remove(k);
                }
            }
            foreach (var (k, v) in write.Data ?? new Dictionary<string, byte[]>())
            {
                data[k] = Convert.ToBase64String(v);
            }
            obj["data"] = data;
            if (write.StringData is { Count: > 0 } sd)
            {
                // Sent as stringData, as the API defines it: the server folds it into data.
                obj["stringData"] = new JsonObject(sd.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
                foreach (var k in sd.Keys)
                {
                    data.Remove(k);
                }
            }
            if (write.Type is not null)
            {
                obj["type"] = write.Type;
            }
            doc.Annotations()[KubeSecretDocument.ChangedAtAnnotation] = client.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            return obj;
        }
        return await AuditedAsync("k8s.secret_written", target, async () =>
        {
            JsonObject? written;
            if (write.ExpectedResourceVersion is not null)
            {
                var current = await client.TryGetAsync(KubeResourceType.Secrets, ns, write.Name, cancellationToken).ConfigureAwait(false);
                var next = Change(current is null ? null : (JsonObject)current.DeepClone())!;
                written = await client.ReplaceAsync(KubeResourceType.Secrets, ns, write.Name, next, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                written = await client.UpdateAsync(KubeResourceType.Secrets, ns, write.Name, Change, cancellationToken).ConfigureAwait(false);
            }
            return ToKubeSecret(client.Context, ns, written!, asPlainText: false);
        }, s => s.Fingerprint).ConfigureAwait(false);
    }

    internal static KubeSecret ToKubeSecret(string context, string ns, JsonObject obj, bool asPlainText)
    {
        var doc = KubeSecretDocument.From(obj);
        return new KubeSecret
        {
            Context = context,
            Namespace = ns,
            Name = obj["metadata"]?["name"]?.GetValue<string>() ?? string.Empty,
            Type = doc.Type,
            Keys = doc.Plain.Keys.ToList(),
            Data = doc.Plain.ToDictionary(kv => kv.Key, kv => SecureStrings.FromPlainText(kv.Value), StringComparer.Ordinal),
            PlainData = asPlainText ? new Dictionary<string, string>(doc.Plain, StringComparer.Ordinal) : null,
            ResourceVersion = doc.ResourceVersion,
            CreatedAt = doc.CreatedAt,
            ChangedAt = doc.ChangedAt,
            Fingerprint = SecretValue.FromFields(doc.Plain).Fingerprint,
            PendingRunId = doc.PendingFields is null ? null : doc.Stages.Pending?.RunId,
        };
    }

    /// <summary>Turns cmdlet input (SecureString, string, byte[]) into the bytes a Secret key holds.</summary>
    public static byte[] ToSecretBytes(object? value, string key) => value switch
    {
        byte[] b => b,
        SecureString s => Encoding.UTF8.GetBytes(SecureStrings.ToPlainText(s)),
        string t => Encoding.UTF8.GetBytes(t),
        null => throw Errors.Errors.InvalidArgument(key, $"The value of key '{key}' is empty."),
        _ => throw Errors.Errors.InvalidArgument(key, $"The value of key '{key}' is a {value.GetType().Name}; give a SecureString, a string or a byte[]."),
    };
}

/// <summary>A whole-secret write (Set-KubeSecret).</summary>
public sealed class KubeSecretWrite
{
    public string? Context { get; init; }
    public string? Namespace { get; init; }
    public required string Name { get; init; }

    /// <summary>Keys sent base64-encoded in <c>data</c>.</summary>
    public IReadOnlyDictionary<string, byte[]>? Data { get; init; }

    /// <summary>Keys sent as <c>stringData</c> (the server encodes them).</summary>
    public IReadOnlyDictionary<string, string>? StringData { get; init; }

    public string? Type { get; init; }

    public string? ExpectedResourceVersion { get; init; }

    /// <summary>Keep keys not named in this write (otherwise they are removed).</summary>
    public bool Merge { get; init; }
}

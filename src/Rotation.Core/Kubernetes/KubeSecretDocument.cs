using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Kubernetes;

/// <summary>
/// How Rotation keeps staging inside one Kubernetes Secret (DESIGN section 2), so every stage change is one PUT with
/// the resourceVersion read (atomic: no second object can be left half-written):
/// - the plain keys are what pods read and are always the Current value;
/// - <c>.rotation-pending</c> and <c>.rotation-previous</c> hold the Pending and Previous documents (a JSON object of
///   all fields). The leading dot makes them hidden files in a mounted volume, and names no application reads;
/// - the annotation <c>rotation.dev/stages</c> holds each stage's version id, run id, creation time and fingerprint
///   (never a value), and <c>rotation.dev/changed-at</c> the moment the plain keys last changed (what
///   Get-KubeSecretConsumer compares pod start times with).
/// </summary>
internal sealed class KubeSecretDocument
{
    public const string PendingKey = ".rotation-pending";
    public const string PreviousKey = ".rotation-previous";
    public const string StagesAnnotation = "rotation.dev/stages";
    public const string ChangedAtAnnotation = "rotation.dev/changed-at";

    private static readonly JsonSerializerOptions JsonOptions = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private KubeSecretDocument(JsonObject obj)
    {
        Object = obj;
        var data = obj["data"] as JsonObject ?? new JsonObject();
        foreach (var (k, v) in data)
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(v?.GetValue<string>() ?? string.Empty));
            if (k == PendingKey)
            {
                PendingFields = ParseDocument(text);
            }
            else if (k == PreviousKey)
            {
                PreviousFields = ParseDocument(text);
            }
            else
            {
                Plain[k] = text;
                _original[k] = (text, v?.GetValue<string>() ?? string.Empty);
            }
        }
        var stagesJson = obj["metadata"]?["annotations"]?[StagesAnnotation]?.GetValue<string>();
        Stages = stagesJson is null ? new StageIndex() : JsonSerializer.Deserialize<StageIndex>(stagesJson, JsonOptions) ?? new StageIndex();
    }

    public static KubeSecretDocument From(JsonObject obj) => new(obj);

    public static KubeSecretDocument New(string ns, string name) => new(new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["type"] = "Opaque",
        ["data"] = new JsonObject(),
    });

    public JsonObject Object { get; }

    // The base64 each key was read with: a key this write does not change is written back byte for byte, so binary
    // values (a keystore, a DER key) next to the key being rotated survive even though Plain holds them as UTF-8.
    private readonly Dictionary<string, (string Text, string Base64)> _original = new(StringComparer.Ordinal);

    public SortedDictionary<string, string> Plain { get; private set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, string>? PendingFields { get; set; }

    public SortedDictionary<string, string>? PreviousFields { get; set; }

    public StageIndex Stages { get; }

    public string ResourceVersion => Object["metadata"]?["resourceVersion"]?.GetValue<string>() ?? string.Empty;

    public string Type => Object["type"]?.GetValue<string>() ?? "Opaque";

    public bool HasCurrent => Plain.Count > 0 || Stages.Current is not null;

    /// <summary>The Current stage's metadata; when the plain keys were changed by someone else (kubectl, a GitOps tool)
    /// the recorded fingerprint no longer matches and the version is named by the value's fingerprint instead.</summary>
    public StageInfo? CurrentInfo
    {
        get
        {
            if (!HasCurrent)
            {
                return null;
            }
            var fp = SecretValue.FromFields(Plain).Fingerprint;
            return Stages.Current is { } c && c.Fingerprint == fp
                ? c
                : new StageInfo { Version = "fp-" + fp, Fingerprint = fp, CreatedAt = ChangedAt };
        }
    }

    public DateTimeOffset? ChangedAt =>
        ParseTime(Object["metadata"]?["annotations"]?[ChangedAtAnnotation]?.GetValue<string>())
        ?? (Object["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>().Select(m => ParseTime(m["time"]?.GetValue<string>())).Max()
        ?? ParseTime(Object["metadata"]?["creationTimestamp"]?.GetValue<string>());

    public DateTimeOffset? CreatedAt => ParseTime(Object["metadata"]?["creationTimestamp"]?.GetValue<string>());

    public void SetPlain(IDictionary<string, string> fields, DateTimeOffset now)
    {
        Plain = new SortedDictionary<string, string>(fields, StringComparer.Ordinal);
        Annotations()[ChangedAtAnnotation] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Writes plain keys, staged documents and the stage index back into the object for a PUT.</summary>
    public JsonObject Serialize()
    {
        var data = new JsonObject();
        foreach (var (k, v) in Plain)
        {
            data[k] = _original.TryGetValue(k, out var o) && o.Text == v ? o.Base64 : Convert.ToBase64String(Encoding.UTF8.GetBytes(v));
        }
        if (PendingFields is not null)
        {
            data[PendingKey] = Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(PendingFields)));
        }
        if (PreviousFields is not null)
        {
            data[PreviousKey] = Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(PreviousFields)));
        }
        Object["data"] = data;
        Object.Remove("stringData");
        Annotations()[StagesAnnotation] = JsonSerializer.Serialize(Stages, JsonOptions);
        return Object;
    }

    public JsonObject Annotations()
    {
        var meta = (JsonObject)Object["metadata"]!;
        if (meta["annotations"] is not JsonObject a)
        {
            a = new JsonObject();
            meta["annotations"] = a;
        }
        return a;
    }

    private static SortedDictionary<string, string> ParseDocument(string text) =>
        new(JsonSerializer.Deserialize<Dictionary<string, string>>(text) ?? [], StringComparer.Ordinal);

    internal static DateTimeOffset? ParseTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    internal sealed class StageIndex
    {
        [JsonPropertyName("current")]
        public StageInfo? Current { get; set; }

        [JsonPropertyName("pending")]
        public StageInfo? Pending { get; set; }

        [JsonPropertyName("previous")]
        public StageInfo? Previous { get; set; }
    }

    internal sealed class StageInfo
    {
        [JsonPropertyName("version")]
        public string Version { get; set; } = string.Empty;

        [JsonPropertyName("runId")]
        public string? RunId { get; set; }

        [JsonPropertyName("createdAt")]
        public DateTimeOffset? CreatedAt { get; set; }

        [JsonPropertyName("fingerprint")]
        public string? Fingerprint { get; set; }

        /// <summary>True when the version is one string (kept under the key <see cref="TextKey"/>), not a map.</summary>
        [JsonPropertyName("text")]
        public bool? Text { get; set; }
    }

    /// <summary>The key a single-string value is kept under when written to a whole secret.</summary>
    public const string TextKey = "value";
}

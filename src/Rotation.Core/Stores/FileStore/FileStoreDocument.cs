using System.Text.Json;
using System.Text.Json.Serialization;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>
/// The on-disk shape of a file store: one JSON document holding many named secrets, each a list of versions in
/// creation order. <see cref="Revision"/> grows by one with every write, so a writer can tell that the document
/// changed under it (a process that ignored the lock file, a hand edit) and refuse instead of overwriting.
/// </summary>
internal sealed class FileStoreDocument
{
    public const int CurrentFormat = 1;

    [JsonPropertyName("format")] public int Format { get; set; } = CurrentFormat;

    [JsonPropertyName("revision")] public long Revision { get; set; }

    [JsonPropertyName("secrets")] public Dictionary<string, FileStoreSecret> Secrets { get; set; } = new(StringComparer.Ordinal);

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter<SecretStage>() },
    };

    public static FileStoreDocument Parse(string json, string target)
    {
        FileStoreDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<FileStoreDocument>(json, Options);
        }
        catch (JsonException ex)
        {
            // The parser's message can quote document text (a value): keep it as the inner exception only.
            throw Malformed(target, $"it is not valid JSON (line {ex.LineNumber + 1})", ex);
        }
        if (doc is null || doc.Secrets is null)
        {
            throw Malformed(target, "it has no 'secrets' object");
        }
        if (doc.Format != CurrentFormat)
        {
            throw Malformed(target, $"its format is {doc.Format}, this version of Rotation reads format {CurrentFormat}");
        }
        foreach (var (name, secret) in doc.Secrets)
        {
            if (secret?.Versions is null)
            {
                throw Malformed(target, $"the secret '{name}' has no 'versions' list");
            }
            foreach (var v in secret.Versions)
            {
                if (v is null || string.IsNullOrEmpty(v.Id) || v.Stages is null
                    || v.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Object)
                    || (v.Value.ValueKind == JsonValueKind.Object && v.Value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String)))
                {
                    throw Malformed(target, $"a version of the secret '{name}' lacks an id, stages, or a string or field-map value");
                }
            }
            foreach (var stage in Enum.GetValues<SecretStage>())
            {
                if (secret.Versions.Count(v => v.Stages.Contains(stage)) > 1)
                {
                    throw Malformed(target, $"more than one version of the secret '{name}' is labelled {stage}");
                }
            }
        }
        return doc;
    }

    public string Serialize() => JsonSerializer.Serialize(this, Options);

    public static RotationException Malformed(string target, string why, Exception? inner = null) =>
        new(RotationErrorIds.StoreDocumentMalformed, RotationErrorCategory.InvalidData, target,
            $"The secret store file for '{target}' cannot be read: {why}. Nothing was changed; repair or restore the file (its previous state is not kept), or point the URI at another file.",
            inner);
}

internal sealed class FileStoreSecret
{
    [JsonPropertyName("versions")] public List<FileStoreVersion> Versions { get; set; } = [];
}

internal sealed class FileStoreVersion
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";

    /// <summary>A JSON string for a single value, a JSON object of strings for a field map.</summary>
    [JsonPropertyName("value")] public JsonElement Value { get; set; }

    [JsonPropertyName("stages")] public List<SecretStage> Stages { get; set; } = [];

    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }

    [JsonPropertyName("runId")] public string? RunId { get; set; }

    [JsonPropertyName("clientRequestToken")] public string? ClientRequestToken { get; set; }

    [JsonPropertyName("description")] public string? Description { get; set; }

    public SecretValue ToValue()
    {
        if (Value.ValueKind == JsonValueKind.String)
        {
            return SecretValue.FromText(Value.GetString()!);
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in Value.EnumerateObject())
        {
            map[p.Name] = p.Value.GetString()!;
        }
        return SecretValue.FromFields(map);
    }

    public static JsonElement FromValue(SecretValue value) => value.IsFields
        ? JsonSerializer.SerializeToElement(value.Fields)
        : JsonSerializer.SerializeToElement(value.Text);
}

using System.Collections.ObjectModel;
using System.Security;
using System.Text.Json;
using Rotation.Core.Errors;

namespace Rotation.Core.Secrets;

/// <summary>
/// A secret value as a store holds it: either one string, or a map of named fields (a Kubernetes Secret, a JSON
/// secret with username/password). It never prints itself: ToString() is redacted, and so is every serialisation
/// except <see cref="ToStoreText"/>, which only stores call.
/// </summary>
public sealed class SecretValue
{
    private readonly string? _text;
    private readonly ReadOnlyDictionary<string, string>? _fields;

    private SecretValue(string? text, IDictionary<string, string>? fields)
    {
        _text = text;
        _fields = fields is null ? null : new ReadOnlyDictionary<string, string>(new SortedDictionary<string, string>(fields, StringComparer.Ordinal));
    }

    public static SecretValue FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new SecretValue(text, null);
    }

    public static SecretValue FromFields(IDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new SecretValue(null, fields);
    }

    public static SecretValue FromSecureString(SecureString value) => FromText(SecureStrings.ToPlainText(value));

    public bool IsFields => _fields is not null;

    /// <summary>The text of a single-string value. For a field map this throws: ask for a field instead.</summary>
    public string Text => _text ?? throw new InvalidOperationException("This secret value is a map of fields, not a single string.");

    public IReadOnlyDictionary<string, string> Fields => _fields ?? throw new InvalidOperationException("This secret value is a single string, not a map of fields.");

    /// <summary>A field's value; for a single string, the string itself when name is null.</summary>
    public string GetField(string? name, string target)
    {
        if (name is null)
        {
            return _text ?? ToStoreText();
        }
        var map = AsFields(target);
        return map.TryGetValue(name, out var v)
            ? v
            : throw Errors.Errors.NotFound(RotationErrorIds.SecretFieldNotFound, target,
                $"The secret '{target}' has no field '{name}'. Its fields are: {string.Join(", ", map.Keys)}.");
    }

    /// <summary>This value as a field map: a map stays a map, a JSON object string is parsed.</summary>
    public IReadOnlyDictionary<string, string> AsFields(string target)
    {
        if (_fields is not null)
        {
            return _fields;
        }
        return TryParseJsonObject(_text!) ?? throw new RotationException(RotationErrorIds.SecretShapeInvalid, RotationErrorCategory.InvalidData, target,
            $"The secret '{target}' holds a single string, not a JSON object of named fields; address it without '#field'.");
    }

    /// <summary>Returns a copy with one field set and the others kept.</summary>
    public SecretValue WithField(string name, string value, string target)
    {
        var map = new Dictionary<string, string>(AsFields(target), StringComparer.Ordinal) { [name] = value };
        return FromFields(map);
    }

    /// <summary>The text a store persists: the string itself, or a JSON object of the fields.</summary>
    public string ToStoreText() => _text ?? JsonSerializer.Serialize(_fields);

    /// <summary>Parses what a store returned: a JSON object of string fields becomes a map when asked.</summary>
    public static SecretValue FromStoreText(string text, bool parseFields)
    {
        if (parseFields && TryParseJsonObject(text) is { } map)
        {
            return FromFields(new Dictionary<string, string>(map, StringComparer.Ordinal));
        }
        return FromText(text);
    }

    public string Fingerprint => Secrets.Fingerprint.Of(ToStoreText());

    public SecureString ToSecureString() => SecureStrings.FromPlainText(ToStoreText());

    public bool ValueEquals(SecretValue other) => string.Equals(ToStoreText(), other.ToStoreText(), StringComparison.Ordinal);

    public override string ToString() => IsFields ? $"[secret: {_fields!.Count} fields, {Fingerprint}]" : $"[secret {Fingerprint}]";

    private static IReadOnlyDictionary<string, string>? TryParseJsonObject(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.Length == 0 || trimmed[0] != '{')
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(text);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            return map;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

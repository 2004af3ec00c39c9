using System.Globalization;
using System.Text.Json.Nodes;

namespace Rotation.Core.Stores.Staging;

/// <summary>Small readers shared by the REST stores.</summary>
internal static class StoreJson
{
    /// <summary>A JSON object of string values (annotations, custom_metadata, tags) as a dictionary; anything else is empty.</summary>
    public static Dictionary<string, string> StringMap(JsonNode? node)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in node as JsonObject ?? [])
        {
            map[k] = v?.ToString() ?? string.Empty;
        }
        return map;
    }

    public static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    public static string? Env(StoreContext context, string name) => context.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

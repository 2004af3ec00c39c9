using System.Globalization;
using System.Text;

namespace Rotation.Core.Redis;

/// <summary>The RESP2 and RESP3 reply types this client understands.</summary>
public enum RespType
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    Null,
    Map,
    Set,
    Double,
    Boolean,
    BigNumber,
    VerbatimString,
    Push,
}

/// <summary>
/// One parsed reply. RESP2 and RESP3 shapes are normalised by the accessors: a RESP3 map and a RESP2 flat
/// key/value array both read as pairs (<see cref="AsPairs"/>), so commands do not care which protocol was spoken.
/// </summary>
public sealed class RespValue
{
    private RespValue(RespType type, string? text, long integer, IReadOnlyList<RespValue>? items)
    {
        Type = type;
        Text = text;
        Integer = integer;
        Items = items ?? [];
    }

    public RespType Type { get; }

    /// <summary>Simple, bulk, verbatim, error, double and big-number text; null for the other types.</summary>
    public string? Text { get; }

    public long Integer { get; }

    /// <summary>Array, set and push elements; a map's keys and values alternate.</summary>
    public IReadOnlyList<RespValue> Items { get; }

    public bool IsNull => Type == RespType.Null;

    public bool IsError => Type == RespType.Error;

    public static readonly RespValue Null = new(RespType.Null, null, 0, null);

    public static RespValue Simple(string text) => new(RespType.SimpleString, text, 0, null);

    public static RespValue Error(string text) => new(RespType.Error, text, 0, null);

    public static RespValue Bulk(string text) => new(RespType.BulkString, text, 0, null);

    public static RespValue Int(long value) => new(RespType.Integer, null, value, null);

    public static RespValue Aggregate(RespType type, IReadOnlyList<RespValue> items) => new(type, null, 0, items);

    public static RespValue Scalar(RespType type, string text) => new(type, text, 0, null);

    public static RespValue Bool(bool value) => new(RespType.Boolean, value ? "t" : "f", value ? 1 : 0, null);

    /// <summary>The reply as a string: simple, bulk and verbatim strings, integers and doubles.</summary>
    public string AsString() => Type switch
    {
        RespType.SimpleString or RespType.BulkString or RespType.VerbatimString or RespType.Double or RespType.BigNumber => Text!,
        RespType.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        RespType.Boolean => Text!,
        _ => throw new InvalidOperationException($"A {Type} reply is not a string."),
    };

    public IReadOnlyList<RespValue> AsList() => Type is RespType.Array or RespType.Set or RespType.Push or RespType.Map
        ? Items
        : throw new InvalidOperationException($"A {Type} reply is not a list.");

    /// <summary>A RESP3 map, or a RESP2 array of alternating keys and values, as key/value pairs.</summary>
    public IReadOnlyList<KeyValuePair<string, RespValue>> AsPairs()
    {
        var items = AsList();
        if (items.Count % 2 != 0)
        {
            throw new InvalidOperationException("A key/value reply has an odd number of elements.");
        }
        var pairs = new List<KeyValuePair<string, RespValue>>(items.Count / 2);
        for (var i = 0; i < items.Count; i += 2)
        {
            pairs.Add(new(items[i].AsString(), items[i + 1]));
        }
        return pairs;
    }

    /// <summary>A short description for diagnostics; never used for replies that can carry secrets.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Type);
        if (Text is not null)
        {
            sb.Append('(').Append(Text.Length).Append(" chars)");
        }
        else if (Type == RespType.Integer)
        {
            sb.Append('(').Append(Integer).Append(')');
        }
        else if (Items.Count > 0)
        {
            sb.Append('[').Append(Items.Count).Append(']');
        }
        return sb.ToString();
    }
}

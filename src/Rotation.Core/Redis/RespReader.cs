using System.Globalization;
using System.Text;
using Rotation.Core.Errors;

namespace Rotation.Core.Redis;

/// <summary>
/// Reads RESP2/RESP3 replies from a stream. Bytes arrive in whatever pieces the network delivers; the reader keeps
/// its own buffer, so a reply split at any byte boundary parses the same as one delivered whole. Anything that is
/// not well-formed RESP (unknown type byte, bad length, missing CRLF, a stream that ends mid-reply, absurd sizes)
/// is a RedisProtocolError naming the endpoint: the connection is then unusable and is closed by its owner.
/// </summary>
internal sealed class RespReader
{
    // Rotation replies are small (ACL rules, CLIENT LIST); the caps stop a hostile or broken peer from making us
    // allocate gigabytes or recurse without end.
    internal const int MaxBulkLength = 64 * 1024 * 1024;
    internal const int MaxAggregateCount = 1_000_000;
    internal const int MaxDepth = 32;
    internal const int MaxLineLength = 1024 * 1024;

    private readonly Stream _stream;
    private readonly string _target;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public RespReader(Stream stream, string target)
    {
        _stream = stream;
        _target = target;
    }

    public async Task<RespValue> ReadAsync(CancellationToken cancellationToken)
    {
        if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new RotationException(RotationErrorIds.RedisUnreachable, RotationErrorCategory.ConnectionError, _target,
                $"The Redis server at {_target} closed the connection before replying. Check the server log and that the endpoint is a Redis server.");
        }
        return await ReadValueAsync(0, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RespValue> ReadValueAsync(int depth, CancellationToken ct)
    {
        if (depth > MaxDepth)
        {
            throw Protocol($"replies nested deeper than {MaxDepth} levels");
        }
        var line = await ReadLineAsync(ct).ConfigureAwait(false);
        if (line.Length == 0)
        {
            throw Protocol("an empty reply line");
        }
        var type = line[0];
        var rest = line[1..];
        switch (type)
        {
            case '+':
                return RespValue.Simple(rest);
            case '-':
                return RespValue.Error(rest);
            case ':':
                return RespValue.Int(ParseInteger(rest));
            case ',':
                return RespValue.Scalar(RespType.Double, rest);
            case '(':
                if (rest.Length == 0 || !rest.TrimStart('-').All(char.IsAsciiDigit))
                {
                    throw Protocol("a malformed big number");
                }
                return RespValue.Scalar(RespType.BigNumber, rest);
            case '_':
                if (rest.Length != 0)
                {
                    throw Protocol("a malformed null");
                }
                return RespValue.Null;
            case '#':
                return rest switch
                {
                    "t" => RespValue.Bool(true),
                    "f" => RespValue.Bool(false),
                    _ => throw Protocol("a malformed boolean"),
                };
            case '$':
            case '=':
            case '!':
                {
                    var length = ParseInteger(rest);
                    if (length == -1 && type == '$')
                    {
                        return RespValue.Null;
                    }
                    if (length < 0 || length > MaxBulkLength)
                    {
                        throw Protocol($"a bulk length of {length}");
                    }
                    var bytes = await ReadExactAsync((int)length, ct).ConfigureAwait(false);
                    await ExpectCrLfAsync(ct).ConfigureAwait(false);
                    var text = Encoding.UTF8.GetString(bytes);
                    return type switch
                    {
                        '$' => RespValue.Bulk(text),
                        '!' => RespValue.Error(text),
                        // Verbatim strings start with a three-letter format and a colon ("txt:").
                        _ => text.Length >= 4 && text[3] == ':' ? RespValue.Scalar(RespType.VerbatimString, text[4..]) : throw Protocol("a malformed verbatim string"),
                    };
                }
            case '*':
            case '~':
            case '>':
            case '%':
            case '|':
                {
                    var count = ParseInteger(rest);
                    if (count == -1 && type == '*')
                    {
                        return RespValue.Null;
                    }
                    if (count < 0 || count > MaxAggregateCount)
                    {
                        throw Protocol($"an aggregate of {count} elements");
                    }
                    var n = type is '%' or '|' ? checked((int)count * 2) : (int)count;
                    var items = new List<RespValue>(Math.Min(n, 1024));
                    for (var i = 0; i < n; i++)
                    {
                        items.Add(await ReadValueAsync(depth + 1, ct).ConfigureAwait(false));
                    }
                    if (type == '|')
                    {
                        // Attributes describe the reply that follows; rotation has no use for them.
                        return await ReadValueAsync(depth, ct).ConfigureAwait(false);
                    }
                    return RespValue.Aggregate(type switch { '*' => RespType.Array, '~' => RespType.Set, '>' => RespType.Push, _ => RespType.Map }, items);
                }
            default:
                throw Protocol($"an unknown reply type byte 0x{(byte)type:x2}");
        }
    }

    private long ParseInteger(string text) =>
        text.Length > 0 && text.Length <= 20 && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Protocol("a malformed integer");

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var scanFrom = _start;
        while (true)
        {
            var idx = Array.IndexOf(_buffer, (byte)'\r', scanFrom, _end - scanFrom);
            if (idx >= 0 && idx + 1 < _end)
            {
                if (_buffer[idx + 1] != (byte)'\n')
                {
                    throw Protocol("a bare carriage return in a reply line");
                }
                var line = Encoding.UTF8.GetString(_buffer, _start, idx - _start);
                _start = idx + 2;
                return line;
            }
            // Either no CR yet, or a CR is the last byte buffered: keep it and read more.
            scanFrom = idx >= 0 ? idx : _end;
            if (_end - _start > MaxLineLength)
            {
                throw Protocol("a reply line without an end");
            }
            var consumed = scanFrom - _start;
            if (!await FillAsync(ct).ConfigureAwait(false))
            {
                throw Truncated();
            }
            scanFrom = _start + consumed;
        }
    }

    private async Task<byte[]> ReadExactAsync(int length, CancellationToken ct)
    {
        var result = new byte[length];
        var copied = 0;
        while (copied < length)
        {
            if (_start == _end && !await FillAsync(ct).ConfigureAwait(false))
            {
                throw Truncated();
            }
            var n = Math.Min(length - copied, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private async Task ExpectCrLfAsync(CancellationToken ct)
    {
        for (var i = 0; i < 2; i++)
        {
            if (_start == _end && !await FillAsync(ct).ConfigureAwait(false))
            {
                throw Truncated();
            }
            if (_buffer[_start] != (i == 0 ? (byte)'\r' : (byte)'\n'))
            {
                throw Protocol("a bulk string longer than its declared length");
            }
            _start++;
        }
    }

    /// <summary>Reads more bytes at the end of the buffer, compacting or growing it first. False at end of stream.</summary>
    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
        _end += read;
        return read > 0;
    }

    private RotationException Truncated() => Protocol("a reply cut short: the connection ended in the middle of it");

    private RotationException Protocol(string what) => new(RotationErrorIds.RedisProtocolError, RotationErrorCategory.ProtocolError, _target,
        $"The Redis server at {_target} sent {what}; the connection was closed. Check that the endpoint is a Redis server (and whether it expects TLS: use -Tls).");
}

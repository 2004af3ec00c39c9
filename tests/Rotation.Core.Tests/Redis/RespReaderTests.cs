using System.Text;
using Rotation.Core.Errors;
using Rotation.Core.Redis;

namespace Rotation.Core.Tests.Redis;

public sealed class RespReaderTests
{
    /// <summary>Delivers the bytes in the given piece sizes (the rest in one piece), like a network would.</summary>
    private sealed class ChunkedStream(byte[] data, params int[] pieces) : Stream
    {
        private int _pos;
        private int _piece;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_pos >= data.Length)
            {
                return 0;
            }
            var size = _piece < pieces.Length ? pieces[_piece++] : data.Length - _pos;
            var n = Math.Min(Math.Min(size, buffer.Length), data.Length - _pos);
            data.AsSpan(_pos, n).CopyTo(buffer);
            _pos += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static Task<RespValue> Parse(string wire, params int[] pieces) =>
        new RespReader(new ChunkedStream(Encoding.UTF8.GetBytes(wire), pieces), "test:6379").ReadAsync(CancellationToken.None);

    private static string Show(RespValue v) => v.Type switch
    {
        RespType.Array or RespType.Set or RespType.Map or RespType.Push => $"{v.Type}[{string.Join(",", v.Items.Select(Show))}]",
        RespType.Integer => $"Integer({v.Integer})",
        RespType.Null => "Null",
        _ => $"{v.Type}({v.Text})",
    };

    // Every reply type of RESP2 and RESP3, including the shapes ACL GETUSER and CLIENT LIST produce.
    public static readonly TheoryData<string, string> Replies = new()
    {
        { "+OK\r\n", "SimpleString(OK)" },
        { "-WRONGPASS invalid username-password pair\r\n", "Error(WRONGPASS invalid username-password pair)" },
        { ":-42\r\n", "Integer(-42)" },
        { "$5\r\nhello\r\n", "BulkString(hello)" },
        { "$0\r\n\r\n", "BulkString()" },
        { "$-1\r\n", "Null" },
        { "*-1\r\n", "Null" },
        { "_\r\n", "Null" },
        { "$4\r\na\r\nb\r\n", "BulkString(a\r\nb)" },
        { "*3\r\n:1\r\n$3\r\nfoo\r\n*0\r\n", "Array[Integer(1),BulkString(foo),Array[]]" },
        { "%2\r\n+flags\r\n*1\r\n+on\r\n+keys\r\n$2\r\n~*\r\n", "Map[SimpleString(flags),Array[SimpleString(on)],SimpleString(keys),BulkString(~*)]" },
        { "~2\r\n+a\r\n+b\r\n", "Set[SimpleString(a),SimpleString(b)]" },
        { ",3.14\r\n", "Double(3.14)" },
        { "#t\r\n", "Boolean(t)" },
        { "(12345678901234567890\r\n", "BigNumber(12345678901234567890)" },
        { "=8\r\ntxt:abcd\r\n", "VerbatimString(abcd)" },
        { "!9\r\nERR oops!\r\n", "Error(ERR oops!)" },
        { "|1\r\n+ttl\r\n:3\r\n+after-attribute\r\n", "SimpleString(after-attribute)" },
        { "$6\r\nh\u00e9llo\r\n", "BulkString(h\u00e9llo)" },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public async Task Parses_every_reply_type(string wire, string expected) => Assert.Equal(expected, Show(await Parse(wire)));

    [Theory]
    [MemberData(nameof(Replies))]
    public async Task Parses_the_same_when_split_at_every_byte_boundary(string wire, string expected)
    {
        var length = Encoding.UTF8.GetByteCount(wire);
        for (var split = 1; split < length; split++)
        {
            Assert.Equal(expected, Show(await Parse(wire, split)));
        }
        // And one byte at a time.
        Assert.Equal(expected, Show(await Parse(wire, Enumerable.Repeat(1, length).ToArray())));
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public async Task A_reply_cut_short_anywhere_is_a_protocol_error(string wire, string expected)
    {
        _ = expected;
        var bytes = Encoding.UTF8.GetBytes(wire);
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var reader = new RespReader(new ChunkedStream(bytes[..cut]), "test:6379");
            var ex = await Assert.ThrowsAsync<RotationException>(() => reader.ReadAsync(CancellationToken.None));
            Assert.Equal(RotationErrorIds.RedisProtocolError, ex.ErrorId);
            Assert.Contains("test:6379", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_closed_stream_before_any_byte_is_unreachable_not_a_protocol_error()
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => Parse(""));
        Assert.Equal(RotationErrorIds.RedisUnreachable, ex.ErrorId);
    }

    [Theory]
    [InlineData("?what\r\n")]           // unknown type byte
    [InlineData("HTTP/1.1 400 Bad\r\n")] // not Redis at all
    [InlineData(":12a\r\n")]            // bad integer
    [InlineData(":\r\n")]               // empty integer
    [InlineData("$abc\r\n")]            // bad length
    [InlineData("$-2\r\n")]             // negative length other than -1
    [InlineData("$3\r\nabcd\r\n")]      // longer than declared
    [InlineData("$3\r\nab\r\n\r\n")]    // data where CRLF must be
    [InlineData("*-5\r\n")]             // negative count
    [InlineData("*99999999999\r\n")]    // absurd count
    [InlineData("$999999999999\r\n")]   // absurd length
    [InlineData("+OK\rX\n")]            // bare CR
    [InlineData("\r\n")]                // empty line
    [InlineData("#x\r\n")]              // bad boolean
    [InlineData("_x\r\n")]              // bad null
    [InlineData("=2\r\nab\r\n")]        // verbatim without format
    [InlineData("(12x\r\n")]            // bad big number
    [InlineData("%1\r\n+a\r\n")]        // map missing its value (truncated)
    public async Task Malformed_replies_are_protocol_errors(string wire)
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => Parse(wire));
        Assert.Equal(RotationErrorIds.RedisProtocolError, ex.ErrorId);
        Assert.Equal(RotationErrorCategory.ProtocolError, ex.Category);
    }

    [Fact]
    public async Task Nesting_deeper_than_the_limit_is_refused()
    {
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", RespReader.MaxDepth + 2)) + ":1\r\n";
        var ex = await Assert.ThrowsAsync<RotationException>(() => Parse(wire));
        Assert.Equal(RotationErrorIds.RedisProtocolError, ex.ErrorId);
    }

    [Fact]
    public async Task A_line_without_an_end_is_refused_before_it_exhausts_memory()
    {
        var wire = "+" + new string('a', RespReader.MaxLineLength + 10);
        var ex = await Assert.ThrowsAsync<RotationException>(() => Parse(wire));
        Assert.Equal(RotationErrorIds.RedisProtocolError, ex.ErrorId);
    }

    [Fact]
    public async Task Consecutive_replies_on_one_stream_parse_in_order_whatever_the_chunking()
    {
        const string wire = "+OK\r\n:7\r\n$3\r\nabc\r\n*1\r\n+x\r\n";
        for (var split = 1; split < wire.Length; split++)
        {
            var reader = new RespReader(new ChunkedStream(Encoding.UTF8.GetBytes(wire), split, 3, 1, 2), "t");
            Assert.Equal("SimpleString(OK)", Show(await reader.ReadAsync(CancellationToken.None)));
            Assert.Equal("Integer(7)", Show(await reader.ReadAsync(CancellationToken.None)));
            Assert.Equal("BulkString(abc)", Show(await reader.ReadAsync(CancellationToken.None)));
            Assert.Equal("Array[SimpleString(x)]", Show(await reader.ReadAsync(CancellationToken.None)));
        }
    }

    [Fact]
    public void Commands_are_encoded_as_arrays_of_bulk_strings()
    {
        var bytes = RespWriter.Encode(["ACL", "SETUSER", "b\u00e9", ">p w"]);
        Assert.Equal("*4\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$3\r\nb\u00e9\r\n$4\r\n>p w\r\n", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task Encoded_commands_parse_back_as_the_same_arguments()
    {
        string[] args = ["SET", "", "with\r\nnewlines", new string('x', 20000)];
        var parsed = await new RespReader(new MemoryStream(RespWriter.Encode(args)), "t").ReadAsync(CancellationToken.None);
        Assert.Equal(args, parsed.Items.Select(i => i.AsString()));
    }
}

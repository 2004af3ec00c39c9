using System.Buffers;
using System.Globalization;
using System.Text;

namespace Rotation.Core.Redis;

/// <summary>Encodes a command as a RESP array of bulk strings (the only form servers must accept).</summary>
internal static class RespWriter
{
    public static byte[] Encode(IReadOnlyList<string> args)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + args.Sum(a => a.Length * 3 + 16));
        Write(buffer, $"*{args.Count.ToString(CultureInfo.InvariantCulture)}\r\n");
        foreach (var arg in args)
        {
            var bytes = Encoding.UTF8.GetBytes(arg);
            Write(buffer, $"${bytes.Length.ToString(CultureInfo.InvariantCulture)}\r\n");
            buffer.Write(bytes);
            Array.Clear(bytes);
            Write(buffer, "\r\n");
        }
        var result = buffer.WrittenSpan.ToArray();
        // The command may carry a password: zero the working copy; the caller zeroes the result after sending.
        buffer.Clear();
        return result;
    }

    private static void Write(ArrayBufferWriter<byte> buffer, string ascii) => buffer.Write(Encoding.ASCII.GetBytes(ascii));
}

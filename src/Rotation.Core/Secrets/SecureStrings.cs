using System.Runtime.InteropServices;
using System.Security;

namespace Rotation.Core.Secrets;

/// <summary>
/// The only place plain text crosses to and from SecureString. Note: on Linux and macOS SecureString is not
/// encrypted in memory; it still keeps values out of ToString(), formatting and transcripts.
/// </summary>
public static class SecureStrings
{
    public static SecureString FromPlainText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = new SecureString();
        foreach (var c in text)
        {
            s.AppendChar(c);
        }
        s.MakeReadOnly();
        return s;
    }

    /// <summary>
    /// From a buffer the caller zeroes afterwards, so no immutable string copy of the value is made. One
    /// allocation: appending character by character re-protects the whole buffer on every call.
    /// </summary>
    public static unsafe SecureString FromChars(ReadOnlySpan<char> chars)
    {
        fixed (char* p = chars)
        {
            var s = chars.Length == 0 ? new SecureString() : new SecureString(p, chars.Length);
            s.MakeReadOnly();
            return s;
        }
    }

    public static string ToPlainText(SecureString value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var ptr = IntPtr.Zero;
        try
        {
            ptr = Marshal.SecureStringToGlobalAllocUnicode(value);
            return Marshal.PtrToStringUni(ptr, value.Length);
        }
        finally
        {
            if (ptr != IntPtr.Zero)
            {
                Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }
    }

    /// <summary>Runs <paramref name="use"/> on the plain characters and zeroes the buffer afterwards.</summary>
    public static T UsePlainChars<T>(SecureString value, Func<char[], T> use)
    {
        var chars = ToPlainText(value).ToCharArray();
        try
        {
            return use(chars);
        }
        finally
        {
            Array.Clear(chars);
        }
    }
}

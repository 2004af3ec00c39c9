using System.Security.Cryptography;

namespace Rotation.Core.Secrets;

public static partial class SecretGenerator
{
    /// <summary>
    /// One value for <paramref name="policy"/> as a RotationSecret: the value only as SecureString, identified by its
    /// fingerprint. The plain characters live in one buffer that is zeroed before this returns.
    /// </summary>
    public static RotationSecret Generate(SecretPolicy policy, string? name = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var chars = GenerateChars(policy);
        try
        {
            return new RotationSecret
            {
                Name = name,
                Value = SecureStrings.FromChars(chars),
                Fingerprint = Fingerprint.OfChars(chars),
                EntropyBits = policy.EntropyBits,
                Format = policy.Format.ToString(),
                Preset = policy.Preset?.ToString(),
                CreatedAt = (clock ?? TimeProvider.System).GetUtcNow(),
            };
        }
        finally
        {
            Array.Clear(chars);
        }
    }

    /// <summary>One value as plain text: for -AsPlainText and for callers that hand it straight to a server.</summary>
    public static string GenerateText(SecretPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var chars = GenerateChars(policy);
        try
        {
            return new string(chars);
        }
        finally
        {
            Array.Clear(chars);
        }
    }

    /// <summary>The characters of one value; the caller zeroes the array.</summary>
    internal static char[] GenerateChars(SecretPolicy policy) =>
        policy.IsByteFormat ? EncodeRandomBytes(policy) : DrawCharacters(policy);

    private static char[] EncodeRandomBytes(SecretPolicy policy)
    {
        var bytes = new byte[policy.ByteLength!.Value];
        var chars = new char[policy.OutputLength];
        try
        {
            RandomNumberGenerator.Fill(bytes);
            switch (policy.Format)
            {
                case SecretFormat.Hex:
                    const string digits = "0123456789abcdef";
                    for (var i = 0; i < bytes.Length; i++)
                    {
                        chars[2 * i] = digits[bytes[i] >> 4];
                        chars[(2 * i) + 1] = digits[bytes[i] & 0xF];
                    }
                    break;
                default:
                    var padded = new char[4 * ((bytes.Length + 2) / 3)];
                    try
                    {
                        Convert.TryToBase64Chars(bytes, padded, out _);
                        if (policy.Format == SecretFormat.Base64Url)
                        {
                            for (var i = 0; i < padded.Length; i++)
                            {
                                padded[i] = padded[i] switch { '+' => '-', '/' => '_', var c => c };
                            }
                        }
                        // Base64Url drops the '=' padding: the output length already excludes it.
                        padded.AsSpan(0, chars.Length).CopyTo(chars);
                    }
                    finally
                    {
                        Array.Clear(padded);
                    }
                    break;
            }
            return chars;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    // Uniform over the alphabet per character, with no modulo anywhere: a random byte is masked to the smallest
    // power of two that covers the alphabet (a uniform value, since that power divides 256) and rejected when it
    // falls past the alphabet's end. Bytes come from the CSPRNG in bulk (one GetInt32 call per character costs a
    // system call each) and the buffer is zeroed afterwards, since those bytes determine the value. Class
    // requirements reject whole strings, so the result is uniform over exactly the strings that meet them, and
    // SecretPolicy.EntropyBits counts exactly those. The policy refuses requirements that would make this spin.
    private static char[] DrawCharacters(SecretPolicy policy)
    {
        var alphabet = policy.Alphabet;
        var chars = new char[policy.Length!.Value];
        Span<int> counts = stackalloc int[4];
        using var source = new UniformIndexSource(alphabet.Length, chars.Length);
        while (true)
        {
            counts.Clear();
            for (var i = 0; i < chars.Length; i++)
            {
                var c = alphabet[source.Next()];
                chars[i] = c;
                counts[(int)CharClasses.Of(c)]++;
            }
            if (policy.Requirement.IsMetBy(counts))
            {
                return chars;
            }
        }
    }

    /// <summary>Uniform indexes in [0, size) by masked rejection over bulk CSPRNG bytes; sizes above 256 use GetInt32.</summary>
    private sealed class UniformIndexSource : IDisposable
    {
        private readonly int _size;
        private readonly int _mask;
        private readonly byte[] _buffer;
        private int _next;

        public UniformIndexSource(int size, int expectedDraws)
        {
            _size = size;
            _mask = size <= 1 ? 0 : (int)(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size) - 1);
            // Acceptance is above one half, so twice the draws usually needs a single fill.
            _buffer = size > 256 ? [] : new byte[Math.Clamp(expectedDraws * 2, 16, 8192)];
            _next = _buffer.Length;
        }

        public int Next()
        {
            if (_size > 256)
            {
                return RandomNumberGenerator.GetInt32(_size);
            }
            while (true)
            {
                if (_next == _buffer.Length)
                {
                    RandomNumberGenerator.Fill(_buffer);
                    _next = 0;
                }
                var candidate = _buffer[_next++] & _mask;
                if (candidate < _size)
                {
                    return candidate;
                }
            }
        }

        public void Dispose() => CryptographicOperations.ZeroMemory(_buffer);
    }
}

using System.Security.Cryptography;
using Rotation.Core.Secrets;

namespace Rotation.Core.Tests.Secrets;

public sealed class UniformityTests
{
    private const int Samples = 3000;

    // Byte lengths that are multiples of 3 give base64 text with neither padding nor a partial last character, so
    // every character position is uniform over the 64 symbols.
    [Theory]
    [InlineData(SecretFormat.Base64, 48, 64)]
    [InlineData(SecretFormat.Base64Url, 48, 64)]
    [InlineData(SecretFormat.Hex, 32, 16)]
    public void Byte_formats_are_uniform_per_character_and_per_byte(SecretFormat format, int byteLength, int symbols)
    {
        var policy = SecretPolicy.Create(format, byteLength: byteLength);
        var charCounts = new Dictionary<char, long>();
        var byteCounts = new long[256];
        for (var i = 0; i < Samples; i++)
        {
            var text = SecretGenerator.GenerateText(policy);
            foreach (var c in text)
            {
                charCounts[c] = charCounts.GetValueOrDefault(c) + 1;
            }
            foreach (var b in Decode(format, text))
            {
                byteCounts[b]++;
            }
        }
        Assert.Equal(symbols, charCounts.Count);
        ChiSquare.AssertUniform(charCounts.Values.ToList(), $"{format} characters");
        ChiSquare.AssertUniform(byteCounts, $"{format} bytes");
    }

    [Theory]
    [InlineData(SecretFormat.Alphanumeric, 62)]
    [InlineData(SecretFormat.Password, 94)]
    public void Character_formats_are_uniform_overall_and_at_the_first_and_last_position(SecretFormat format, int symbols)
    {
        var policy = SecretPolicy.Create(format, length: 64);
        Assert.Equal(symbols, policy.Alphabet.Length);
        var overall = new long[symbols];
        var first = new long[symbols];
        var last = new long[symbols];
        for (var i = 0; i < Samples; i++)
        {
            var text = SecretGenerator.GenerateText(policy);
            foreach (var c in text)
            {
                overall[policy.Alphabet.IndexOf(c, StringComparison.Ordinal)]++;
            }
            first[policy.Alphabet.IndexOf(text[0], StringComparison.Ordinal)]++;
            last[policy.Alphabet.IndexOf(text[^1], StringComparison.Ordinal)]++;
        }
        ChiSquare.AssertUniform(overall, $"{format} characters");
        ChiSquare.AssertUniform(first, $"{format} first character");
        ChiSquare.AssertUniform(last, $"{format} last character");
    }

    [Fact]
    public void Preset_DbPassword_is_uniform_over_its_alphabet()
    {
        var policy = SecretPolicy.FromPreset(SecretPreset.DbPassword);
        var counts = new long[policy.Alphabet.Length];
        for (var i = 0; i < Samples; i++)
        {
            foreach (var c in SecretGenerator.GenerateText(policy))
            {
                counts[policy.Alphabet.IndexOf(c, StringComparison.Ordinal)]++;
            }
        }
        // The class requirement shifts per-character frequencies by well under the test's resolution: the
        // fraction of rejected strings is about 1.5e-4 (see the entropy test).
        ChiSquare.AssertUniform(counts, "DbPassword characters");
    }

    /// <summary>
    /// With class requirements, whole-string rejection must be uniform over exactly the strings that meet them:
    /// enumerate every valid string of a small policy and test the sample against all of them.
    /// </summary>
    [Fact]
    public void Class_requirements_are_uniform_over_the_valid_strings()
    {
        var exclude = new string(SecretPolicy.PasswordAlphabet.Where(c => "AB1a!".IndexOf(c, StringComparison.Ordinal) < 0).ToArray());
        var policy = SecretPolicy.Create(SecretFormat.Password, length: 3, excludeCharacters: exclude, minUpper: 1, minDigit: 1);
        var valid = AllStrings(policy.Alphabet, 3).Where(s => s.Any(char.IsUpper) && s.Any(char.IsDigit)).ToList();
        var index = valid.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i);
        var counts = new long[valid.Count];
        for (var i = 0; i < valid.Count * 200; i++)
        {
            counts[index[SecretGenerator.GenerateText(policy)]]++;
        }
        ChiSquare.AssertUniform(counts, "valid strings");
        Assert.Equal(Math.Log2(valid.Count), policy.EntropyBits, 9);
    }

    /// <summary>The threshold has power: a modulo-reduced byte (the classic bias) fails it at the same sample size.</summary>
    [Fact]
    public void The_threshold_detects_modulo_bias()
    {
        var counts = new long[62];
        var buffer = new byte[64];
        for (var i = 0; i < Samples; i++)
        {
            RandomNumberGenerator.Fill(buffer);
            foreach (var b in buffer)
            {
                counts[b % 62]++;
            }
        }
        Assert.True(ChiSquare.Statistic(counts) > ChiSquare.Critical(61));
    }

    internal static byte[] Decode(SecretFormat format, string text) => format switch
    {
        SecretFormat.Hex => Convert.FromHexString(text),
        SecretFormat.Base64 => Convert.FromBase64String(text),
        SecretFormat.Base64Url => Base64Url.Decode(text),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    internal static IEnumerable<string> AllStrings(string alphabet, int length) =>
        length == 0 ? [string.Empty] : AllStrings(alphabet, length - 1).SelectMany(p => alphabet.Select(c => p + c));
}

using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Secrets;

public sealed class SecretPolicyTests
{
    [Theory]
    [InlineData(SecretPreset.JwtHmac, null, SecretFormat.Base64, 64, 88)]
    [InlineData(SecretPreset.Aes256Key, null, SecretFormat.Base64, 32, 44)]
    [InlineData(SecretPreset.Aes256Key, SecretFormat.Hex, SecretFormat.Hex, 32, 64)]
    [InlineData(SecretPreset.Aes256Key, SecretFormat.Base64Url, SecretFormat.Base64Url, 32, 43)]
    [InlineData(SecretPreset.ApiKey, null, SecretFormat.Base64Url, 32, 43)]
    public void Byte_presets_hold_exactly_their_bytes(SecretPreset preset, SecretFormat? format, SecretFormat expectedFormat, int bytes, int chars)
    {
        var policy = SecretPolicy.FromPreset(preset, format);
        Assert.Equal(expectedFormat, policy.Format);
        Assert.Equal(bytes, policy.ByteLength);
        Assert.Equal(bytes * 8.0, policy.EntropyBits);
        for (var i = 0; i < 50; i++)
        {
            var text = SecretGenerator.GenerateText(policy);
            Assert.Equal(chars, text.Length);
            Assert.Equal(bytes, UniformityTests.Decode(expectedFormat, text).Length);
        }
    }

    [Fact]
    public void DbPassword_is_32_connection_safe_characters_with_three_classes()
    {
        var policy = SecretPolicy.FromPreset(SecretPreset.DbPassword);
        Assert.Equal(SecretGenerator.ConnectionSafeAlphabet.OrderBy(c => c), policy.Alphabet.OrderBy(c => c));
        Assert.Equal(SecretFormat.Password, policy.Format);
        for (var i = 0; i < 500; i++)
        {
            var text = SecretGenerator.GenerateText(policy);
            Assert.Equal(32, text.Length);
            Assert.DoesNotContain(text, c => "=+/@:;'\"\\ ".Contains(c, StringComparison.Ordinal));
            Assert.All(text, c => Assert.Contains(c, SecretGenerator.ConnectionSafeAlphabet));
            Assert.Contains(text, char.IsAsciiLetterUpper);
            Assert.Contains(text, char.IsAsciiLetterLower);
            Assert.Contains(text, char.IsAsciiDigit);
            // Survives the places it is pasted into unescaped.
            Assert.Equal(text, Uri.EscapeDataString(text).Replace("%21", "!").Replace("%2A", "*").Replace("%28", "(").Replace("%29", ")"));
        }
    }

    [Fact]
    public void DbPassword_entropy_is_exact_for_its_class_requirements()
    {
        // Independent formula for minimums of one: inclusion-exclusion over the three required classes
        // (26 upper, 26 lower, 10 digits) of a 70-character alphabet.
        BigInteger valid = 0;
        int[] sizes = [26, 26, 10];
        for (var mask = 0; mask < 8; mask++)
        {
            var removed = Enumerable.Range(0, 3).Where(i => (mask & (1 << i)) != 0).Sum(i => sizes[i]);
            var term = BigInteger.Pow(70 - removed, 32);
            valid += BitOperations.PopCount((uint)mask) % 2 == 0 ? term : -term;
        }
        var expected = BigInteger.Log(valid) / Math.Log(2);
        var policy = SecretPolicy.FromPreset(SecretPreset.DbPassword);
        Assert.Equal(expected, policy.EntropyBits, 9);
        Assert.True(policy.EntropyBits < 32 * Math.Log2(70));
        Assert.True(policy.EntropyBits > (32 * Math.Log2(70)) - 0.02);
    }

    [Theory]
    [InlineData(SecretFormat.Alphanumeric, 20, 62)]
    [InlineData(SecretFormat.Password, 32, 94)]
    [InlineData(SecretFormat.Password, 1, 94)]
    public void Character_entropy_is_length_times_log2_alphabet(SecretFormat format, int length, int alphabet)
    {
        Assert.Equal(length * Math.Log2(alphabet), SecretPolicy.Create(format, length: length).EntropyBits, 9);
    }

    [Theory]
    [InlineData(SecretFormat.Base64, 1)]
    [InlineData(SecretFormat.Base64Url, 17)]
    [InlineData(SecretFormat.Hex, 16)]
    public void Byte_entropy_is_bytes_times_eight(SecretFormat format, int bytes)
    {
        var policy = SecretPolicy.Create(format, byteLength: bytes);
        Assert.Equal(bytes * 8.0, policy.EntropyBits);
        Assert.Equal(policy.OutputLength, SecretGenerator.GenerateText(policy).Length);
    }

    [Fact]
    public void Defaults_are_32_characters_or_32_bytes()
    {
        Assert.Equal(32, SecretGenerator.GenerateText(SecretPolicy.Create()).Length);
        Assert.Equal(32, SecretPolicy.Create(SecretFormat.Hex).ByteLength);
    }

    [Fact]
    public void Excluded_characters_never_appear_and_reduce_entropy()
    {
        const string excluded = "\"'\\`$ ";
        var policy = SecretPolicy.Create(SecretFormat.Password, length: 40, excludeCharacters: excluded);
        Assert.Equal(89, policy.Alphabet.Length);
        Assert.Equal(40 * Math.Log2(89), policy.EntropyBits, 9);
        for (var i = 0; i < 1000; i++)
        {
            Assert.DoesNotContain(SecretGenerator.GenerateText(policy), c => excluded.Contains(c, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("length 0", SecretFormat.Password, 0, null, null, 0, 0)]
    [InlineData("too long", SecretFormat.Alphanumeric, 4097, null, null, 0, 0)]
    [InlineData("byte length 0", SecretFormat.Hex, null, 0, null, 0, 0)]
    [InlineData("Length with a byte format", SecretFormat.Base64, 32, null, null, 0, 0)]
    [InlineData("ByteLength with a character format", SecretFormat.Password, null, 32, null, 0, 0)]
    [InlineData("both lengths", SecretFormat.Password, 32, 32, null, 0, 0)]
    [InlineData("exclusion with a byte format", SecretFormat.Hex, null, 16, "a", 0, 0)]
    [InlineData("everything excluded", SecretFormat.Alphanumeric, 8, null, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 0, 0)]
    [InlineData("requirements longer than length", SecretFormat.Password, 3, null, null, 2, 2)]
    [InlineData("required class excluded", SecretFormat.Password, 16, null, "0123456789", 0, 1)]
    [InlineData("negative minimum", SecretFormat.Password, 16, null, null, -1, 0)]
    [InlineData("requirements too tight to sample", SecretFormat.Password, 12, null, null, 0, 12)]
    public void Impossible_policies_are_refused(string why, SecretFormat format, int? length, int? byteLength, string? exclude, int minUpper, int minDigit)
    {
        var ex = Assert.Throws<RotationException>(() =>
            SecretPolicy.Create(format, length, byteLength, exclude, minUpper: minUpper, minDigit: minDigit));
        Assert.Equal(RotationErrorIds.SecretPolicyUnsatisfiable, ex.ErrorId);
        Assert.Equal(RotationErrorCategory.InvalidArgument, ex.Category);
        Assert.False(string.IsNullOrWhiteSpace(ex.TargetName), why);
    }

    [Fact]
    public void Symbols_cannot_be_required_of_alphanumeric()
    {
        var ex = Assert.Throws<RotationException>(() => SecretPolicy.Create(SecretFormat.Alphanumeric, 16, minSymbol: 1));
        Assert.Contains("-Format Password", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SecretPreset.DbPassword, SecretFormat.Hex)]
    [InlineData(SecretPreset.JwtHmac, SecretFormat.Password)]
    [InlineData(SecretPreset.Aes256Key, SecretFormat.Alphanumeric)]
    public void Presets_refuse_a_format_that_changes_what_they_are(SecretPreset preset, SecretFormat format)
    {
        var ex = Assert.Throws<RotationException>(() => SecretPolicy.FromPreset(preset, format));
        Assert.Equal(RotationErrorIds.SecretPolicyUnsatisfiable, ex.ErrorId);
    }

    [Fact]
    public void Resolve_maps_the_cmdlet_parameters()
    {
        Assert.Equal(SecretFormat.Password, SecretPolicy.Resolve().Format);
        Assert.Equal(32, SecretPolicy.Resolve().Length);
        var bytes = SecretPolicy.Resolve(byteLength: 16);
        Assert.Equal((SecretFormat.Base64, 16), (bytes.Format, bytes.ByteLength!.Value));
        var excluded = SecretPolicy.Resolve(format: SecretFormat.Alphanumeric, length: 10, excludeCharacters: ["ab", "C"]);
        Assert.Equal(59, excluded.Alphabet.Length);
        Assert.DoesNotContain('C', excluded.Alphabet);
        Assert.Equal(SecretFormat.Hex, SecretPolicy.Resolve(SecretPreset.Aes256Key, SecretFormat.Hex).Format);
        Assert.Equal(SecretPreset.DbPassword, SecretPolicy.Resolve(SecretPreset.DbPassword).Preset);
    }

    [Theory]
    [InlineData(12, null, null, 0)]
    [InlineData(null, 12, null, 0)]
    [InlineData(null, null, "x", 0)]
    [InlineData(null, null, null, 1)]
    public void Resolve_refuses_a_preset_mixed_with_an_explicit_policy(int? length, int? byteLength, string? exclude, int minDigit)
    {
        var ex = Assert.Throws<RotationException>(() => SecretPolicy.Resolve(SecretPreset.ApiKey, null, length, byteLength,
            exclude is null ? null : [exclude], minDigit: minDigit));
        Assert.Equal(RotationErrorIds.SecretPolicyUnsatisfiable, ex.ErrorId);
    }

    [Fact]
    public void Generate_returns_a_RotationSecret_that_never_shows_its_value()
    {
        var policy = SecretPolicy.FromPreset(SecretPreset.JwtHmac);
        var secret = SecretGenerator.Generate(policy, "ticket-service");
        var plain = SecureStrings.ToPlainText(secret.Value);
        Assert.Equal(88, plain.Length);
        Assert.Equal(Fingerprint.Of(plain), secret.Fingerprint);
        Assert.Equal(512.0, secret.EntropyBits);
        Assert.Equal("Base64", secret.Format);
        Assert.Equal("JwtHmac", secret.Preset);
        Assert.Equal("ticket-service", secret.Name);
        Assert.NotNull(secret.CreatedAt);
        LeakAssert.NoneOf([plain], [("ToString", secret.ToString()), ("policy", policy.ToString())]);
    }

    [Fact]
    public void Two_values_differ()
    {
        var policy = SecretPolicy.Create(SecretFormat.Alphanumeric, 24);
        Assert.NotEqual(SecretGenerator.GenerateText(policy), SecretGenerator.GenerateText(policy));
    }

    private static readonly Gen<(int Length, string Exclude, int[] Mins, SecretFormat Format)> PolicyInputs =
        from length in Gen.Choose(1, 48)
        from exclude in Gen.SubListOf(SecretPolicy.PasswordAlphabet.ToCharArray())
        from mins in Gen.ArrayOf(Gen.Choose(0, 4), 4)
        from format in Gen.Elements(SecretFormat.Alphanumeric, SecretFormat.Password)
        select (length, new string(exclude.ToArray()), mins, format);

    /// <summary>Any character policy either refuses with SecretPolicyUnsatisfiable or generates values that honour all of it.</summary>
    [Fact]
    public void Property_policies_refuse_or_are_honoured()
    {
        var accepted = 0;
        var property = Prop.ForAll(Arb.From(PolicyInputs), input =>
        {
            SecretPolicy policy;
            try
            {
                policy = SecretPolicy.Create(input.Format, input.Length, null, input.Exclude, input.Mins[0], input.Mins[1], input.Mins[2], input.Mins[3]);
            }
            catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.SecretPolicyUnsatisfiable)
            {
                return true;
            }
            accepted++;
            var text = SecretGenerator.GenerateText(policy);
            var maxBits = input.Length * Math.Log2(policy.Alphabet.Length);
            var entropyOk = policy.EntropyBits <= maxBits + 1e-9 && (policy.EntropyBits > 0 || maxBits == 0);
            return entropyOk
                && text.Length == input.Length
                && text.All(c => policy.Alphabet.Contains(c, StringComparison.Ordinal) && !input.Exclude.Contains(c, StringComparison.Ordinal))
                && text.Count(char.IsAsciiLetterUpper) >= input.Mins[0]
                && text.Count(char.IsAsciiLetterLower) >= input.Mins[1]
                && text.Count(char.IsAsciiDigit) >= input.Mins[2]
                && text.Count(c => !char.IsAsciiLetterOrDigit(c)) >= input.Mins[3];
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
        Assert.True(accepted > 30, $"only {accepted} of 300 generated policies were satisfiable: the generator of inputs is too strict");
    }

    /// <summary>The exact count behind EntropyBits equals brute-force enumeration on small alphabets.</summary>
    [Fact]
    public void Property_entropy_equals_brute_force_count()
    {
        var inputs =
            from length in Gen.Choose(1, 4)
            from keep in Gen.SubListOf("ABab01!?".ToCharArray())
            from mins in Gen.ArrayOf(Gen.Choose(0, 2), 4)
            select (length, keep: new string(keep.ToArray()), mins);
        var property = Prop.ForAll(Arb.From(inputs), input =>
        {
            var exclude = new string(SecretPolicy.PasswordAlphabet.Where(c => !input.keep.Contains(c, StringComparison.Ordinal)).ToArray());
            SecretPolicy policy;
            try
            {
                policy = SecretPolicy.Create(SecretFormat.Password, input.length, null, exclude, input.mins[0], input.mins[1], input.mins[2], input.mins[3]);
            }
            catch (RotationException)
            {
                return true;
            }
            var count = UniformityTests.AllStrings(policy.Alphabet, input.length).Count(s =>
                s.Count(char.IsAsciiLetterUpper) >= input.mins[0] && s.Count(char.IsAsciiLetterLower) >= input.mins[1]
                && s.Count(char.IsAsciiDigit) >= input.mins[2] && s.Count(c => !char.IsAsciiLetterOrDigit(c)) >= input.mins[3]);
            return Math.Abs(policy.EntropyBits - Math.Log2(count)) < 1e-9;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}

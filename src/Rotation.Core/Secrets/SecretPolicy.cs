using System.Globalization;
using System.Numerics;
using Rotation.Core.Errors;

namespace Rotation.Core.Secrets;

/// <summary>How a generated value is written. The first three encode random bytes; the last two draw characters.</summary>
public enum SecretFormat
{
    /// <summary>Standard base64 (RFC 4648 section 4) with '=' padding.</summary>
    Base64,

    /// <summary>URL-safe base64 (RFC 4648 section 5) without padding, as JWTs and URLs use it.</summary>
    Base64Url,

    /// <summary>Lower-case hexadecimal, two characters per byte (what 'openssl rand -hex' prints).</summary>
    Hex,

    /// <summary>Characters drawn from A-Z a-z 0-9.</summary>
    Alphanumeric,

    /// <summary>Characters drawn from the 94 printable ASCII characters other than space.</summary>
    Password,
}

/// <summary>Policies the seed runbooks ask for by name.</summary>
public enum SecretPreset
{
    /// <summary>64 random bytes, base64: an HMAC-SHA256/512 JWT signing secret (RFC 7518 wants at least the hash size).</summary>
    JwtHmac,

    /// <summary>Exactly 32 random bytes (AES-256), base64 unless a byte format is chosen.</summary>
    Aes256Key,

    /// <summary>32 characters safe in URLs and connection strings (<see cref="SecretGenerator.ConnectionSafeAlphabet"/>).</summary>
    DbPassword,

    /// <summary>32 random bytes, base64url without padding: 43 characters, no prefix.</summary>
    ApiKey,
}

/// <summary>
/// A validated generation policy. Creating one checks that it can be satisfied and computes the entropy of what it
/// generates, so an impossible policy fails before anything is generated (SecretPolicyUnsatisfiable).
/// </summary>
public sealed class SecretPolicy
{
    /// <summary>Upper bound for -Length and -ByteLength: far beyond any key or password, small enough to stay cheap.</summary>
    public const int MaxLength = 4096;

    /// <summary>Default size when a policy names neither a length nor a byte length.</summary>
    public const int DefaultLength = 32;

    /// <summary>The 94 printable ASCII characters other than space.</summary>
    public const string PasswordAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    public const string AlphanumericAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// Whole-string rejection is used for class requirements; a policy whose valid strings are rarer than this
    /// (an expected 65,536 draws per value) is refused instead of spinning.
    /// </summary>
    public const double MinAcceptanceProbability = 1.0 / 65536;

    private SecretPolicy(SecretFormat format, int? length, int? byteLength, string alphabet, ClassRequirement requirement, SecretPreset? preset)
    {
        Format = format;
        Length = length;
        ByteLength = byteLength;
        Alphabet = alphabet;
        Requirement = requirement;
        Preset = preset;
        // Computed once, here: a policy is shared across -Count values and may be shared across threads.
        _counts = IsByteFormat ? (ByteLength!.Value * 8.0, 1.0) : ComputeCounts();
    }

    public SecretFormat Format { get; }

    /// <summary>Characters, for Alphanumeric and Password; null for byte formats.</summary>
    public int? Length { get; }

    /// <summary>Random bytes, for Base64, Base64Url and Hex; null for character formats.</summary>
    public int? ByteLength { get; }

    /// <summary>The characters a character format draws from (after exclusions), in a fixed order; empty for byte formats.</summary>
    public string Alphabet { get; }

    public int MinUpper => Requirement.MinUpper;

    public int MinLower => Requirement.MinLower;

    public int MinDigit => Requirement.MinDigit;

    public int MinSymbol => Requirement.MinSymbol;

    public SecretPreset? Preset { get; }

    internal ClassRequirement Requirement { get; }

    public bool IsByteFormat => IsByte(Format);

    /// <summary>Characters in every value this policy generates.</summary>
    public int OutputLength => Format switch
    {
        SecretFormat.Base64 => 4 * ((ByteLength!.Value + 2) / 3),
        SecretFormat.Base64Url => (4 * ByteLength!.Value + 2) / 3,
        SecretFormat.Hex => 2 * ByteLength!.Value,
        _ => Length!.Value,
    };

    /// <summary>
    /// Exact entropy in bits: bytes x 8 for byte formats; for character formats log2 of the number of strings the
    /// policy can produce, each equally likely. Without class requirements that is length x log2(alphabet size);
    /// with them, rejection removes the strings that miss a class, and the count of the remaining ones is computed
    /// exactly (inclusion-exclusion over the classes), so the figure is exact, not an upper bound.
    /// </summary>
    public double EntropyBits => _counts.EntropyBits;

    /// <summary>Probability that one uniformly drawn string meets the class requirements (1 without requirements).</summary>
    internal double AcceptanceProbability => _counts.Acceptance;

    /// <summary>What identifies the policy in messages: never a value.</summary>
    public string Description => Preset is { } p
        ? $"preset {p} ({Format}, {SizeText})"
        : $"{Format} ({SizeText})";

    private string SizeText => IsByteFormat ? $"{ByteLength} bytes" : $"{Length} characters";

    private readonly (double EntropyBits, double Acceptance) _counts;

    private (double, double) ComputeCounts()
    {
        var n = Length!.Value;
        var total = n * Math.Log2(Alphabet.Length);
        if (!Requirement.Any)
        {
            return (total, 1.0);
        }
        var valid = ClassCounting.CountValid(n, Alphabet, Requirement);
        var bits = BigInteger.Log(valid) / Math.Log(2);
        return (bits, Math.Pow(2, bits - total));
    }

    /// <summary>Builds and validates an explicit policy (the parameters of New-RotationSecret's Policy set).</summary>
    public static SecretPolicy Create(
        SecretFormat format = SecretFormat.Password,
        int? length = null,
        int? byteLength = null,
        string? excludeCharacters = null,
        int minUpper = 0,
        int minLower = 0,
        int minDigit = 0,
        int minSymbol = 0) =>
        Build(format, length, byteLength, excludeCharacters, new ClassRequirement(minUpper, minLower, minDigit, minSymbol), preset: null, baseAlphabet: null);

    /// <summary>
    /// The policy New-RotationSecret's parameters describe: a preset (with an optional byte format) or an explicit
    /// policy. Without -Format an explicit policy is Password, or Base64 when only -ByteLength is given. Each
    /// string of <paramref name="excludeCharacters"/> excludes all of its characters.
    /// </summary>
    public static SecretPolicy Resolve(
        SecretPreset? preset = null,
        SecretFormat? format = null,
        int? length = null,
        int? byteLength = null,
        IEnumerable<string>? excludeCharacters = null,
        int minUpper = 0,
        int minLower = 0,
        int minDigit = 0,
        int minSymbol = 0)
    {
        var exclude = excludeCharacters is null ? null : string.Concat(excludeCharacters);
        if (preset is { } p)
        {
            if (length is not null || byteLength is not null || !string.IsNullOrEmpty(exclude) || minUpper + minLower + minDigit + minSymbol != 0)
            {
                throw Unsatisfiable($"preset {p}",
                    $"-Preset {p} fixes the size, alphabet and classes; give either a preset (with an optional -Format) or an explicit policy, not both.");
            }
            return FromPreset(p, format);
        }
        var chosen = format ?? (byteLength is not null && length is null ? SecretFormat.Base64 : SecretFormat.Password);
        return Create(chosen, length, byteLength, exclude, minUpper, minLower, minDigit, minSymbol);
    }

    /// <summary>
    /// A preset, optionally written in another byte format (Aes256Key as Hex is still 32 bytes: 64 hex characters).
    /// </summary>
    public static SecretPolicy FromPreset(SecretPreset preset, SecretFormat? format = null)
    {
        switch (preset)
        {
            case SecretPreset.DbPassword:
                if (format is { } f && f != SecretFormat.Password)
                {
                    throw Unsatisfiable($"preset {preset}",
                        $"The DbPassword preset is a {SecretPolicy.DefaultLength}-character password over a fixed connection-string-safe alphabet; it cannot be written as {f}. " +
                        "Omit -Format, or use an explicit policy (-Length, -Format, -ExcludeCharacter).");
                }
                // Three of four classes satisfies the common "three categories" complexity rules of managed databases.
                return Build(SecretFormat.Password, DefaultLength, null, null, new ClassRequirement(1, 1, 1, 0), preset, SecretGenerator.ConnectionSafeAlphabet);
            default:
                var bytes = preset switch
                {
                    SecretPreset.JwtHmac => 64,
                    SecretPreset.Aes256Key => 32,
                    SecretPreset.ApiKey => 32,
                    _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Unknown preset."),
                };
                var defaultFormat = preset == SecretPreset.ApiKey ? SecretFormat.Base64Url : SecretFormat.Base64;
                var chosen = format ?? defaultFormat;
                if (!IsByte(chosen))
                {
                    throw Unsatisfiable($"preset {preset}",
                        $"The {preset} preset is {bytes} random bytes; {chosen} draws characters, not bytes. Use -Format Base64, Base64Url or Hex.");
                }
                return Build(chosen, null, bytes, null, default, preset, null);
        }
    }

    internal static bool IsByte(SecretFormat format) => format is SecretFormat.Base64 or SecretFormat.Base64Url or SecretFormat.Hex;

    private static SecretPolicy Build(SecretFormat format, int? length, int? byteLength, string? exclude, ClassRequirement req, SecretPreset? preset, string? baseAlphabet)
    {
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown format.");
        }
        var target = $"{format} policy";
        if (length is not null && byteLength is not null)
        {
            throw Unsatisfiable(target, "Give either -Length (characters) or -ByteLength (random bytes), not both.");
        }
        if (req.MinUpper < 0 || req.MinLower < 0 || req.MinDigit < 0 || req.MinSymbol < 0)
        {
            throw Unsatisfiable(target, "Character-class minimums cannot be negative.");
        }
        if (IsByte(format))
        {
            if (length is { } l)
            {
                throw Unsatisfiable(target,
                    $"-Length counts characters, but {format} encodes random bytes: give -ByteLength instead " +
                    $"(for example -ByteLength {Math.Max(1, ByteLengthFor(format, l))} gives about {l} characters).");
            }
            if (!string.IsNullOrEmpty(exclude))
            {
                throw Unsatisfiable(target,
                    $"-ExcludeCharacter applies to Alphanumeric and Password; {format}'s alphabet is fixed by its encoding. " +
                    "Base64Url avoids '+', '/' and '='; Hex uses only 0-9 a-f.");
            }
            if (req.Any)
            {
                throw Unsatisfiable(target, $"Character-class minimums apply to Alphanumeric and Password, not to {format}.");
            }
            var bytes = byteLength ?? DefaultLength;
            CheckSize(target, bytes, "-ByteLength");
            return new SecretPolicy(format, null, bytes, string.Empty, default, preset);
        }

        if (byteLength is not null)
        {
            throw Unsatisfiable(target, $"-ByteLength counts random bytes, but {format} draws characters: give -Length instead.");
        }
        var n = length ?? DefaultLength;
        CheckSize(target, n, "-Length");
        var alphabet = ApplyExclusions(baseAlphabet ?? (format == SecretFormat.Alphanumeric ? AlphanumericAlphabet : PasswordAlphabet), exclude);
        if (alphabet.Length == 0)
        {
            throw Unsatisfiable(target, $"-ExcludeCharacter removes every character {format} could use; exclude fewer characters.");
        }
        foreach (var (cls, min) in req.Pairs())
        {
            if (min > 0 && !alphabet.Any(c => CharClasses.Of(c) == cls))
            {
                throw Unsatisfiable(target,
                    $"At least {min} {CharClasses.Name(cls)} character(s) are required, but no {CharClasses.Name(cls)} character is left in the alphabet" +
                    (format == SecretFormat.Alphanumeric && cls == CharClass.Symbol ? " (Alphanumeric has no symbols; use -Format Password)." : " after exclusions."));
            }
        }
        if (req.Total > n)
        {
            throw Unsatisfiable(target,
                $"The character-class minimums add up to {req.Total}, more than the length {n}. Lengthen the secret or lower the minimums.");
        }
        var policy = new SecretPolicy(format, n, null, alphabet, req, preset);
        if (policy.AcceptanceProbability < MinAcceptanceProbability)
        {
            throw Unsatisfiable(target,
                $"Only a fraction {policy.AcceptanceProbability.ToString("G3", CultureInfo.InvariantCulture)} of {n}-character strings meet the class minimums; " +
                "uniform generation would need too many draws. Lengthen the secret or lower the minimums.");
        }
        return policy;
    }

    private static int ByteLengthFor(SecretFormat format, int chars) => format switch
    {
        SecretFormat.Hex => chars / 2,
        _ => chars * 3 / 4,
    };

    private static void CheckSize(string target, int size, string parameter)
    {
        if (size < 1 || size > MaxLength)
        {
            throw Unsatisfiable(target, $"{parameter} must be between 1 and {MaxLength}; it was {size}.");
        }
    }

    private static string ApplyExclusions(string alphabet, string? exclude) =>
        string.IsNullOrEmpty(exclude) ? alphabet : new string(alphabet.Where(c => !exclude.Contains(c, StringComparison.Ordinal)).ToArray());

    internal static RotationException Unsatisfiable(string target, string message) =>
        new(RotationErrorIds.SecretPolicyUnsatisfiable, RotationErrorCategory.InvalidArgument, target, message);

    public override string ToString() => Description;
}

internal enum CharClass
{
    Upper,
    Lower,
    Digit,
    Symbol,
}

internal static class CharClasses
{
    public static CharClass Of(char c) => c switch
    {
        >= 'A' and <= 'Z' => CharClass.Upper,
        >= 'a' and <= 'z' => CharClass.Lower,
        >= '0' and <= '9' => CharClass.Digit,
        _ => CharClass.Symbol,
    };

    public static string Name(CharClass c) => c switch
    {
        CharClass.Upper => "upper-case",
        CharClass.Lower => "lower-case",
        CharClass.Digit => "digit",
        _ => "symbol",
    };
}

internal readonly record struct ClassRequirement(int MinUpper, int MinLower, int MinDigit, int MinSymbol)
{
    public bool Any => MinUpper > 0 || MinLower > 0 || MinDigit > 0 || MinSymbol > 0;

    public int Total => MinUpper + MinLower + MinDigit + MinSymbol;

    public int Min(CharClass c) => c switch
    {
        CharClass.Upper => MinUpper,
        CharClass.Lower => MinLower,
        CharClass.Digit => MinDigit,
        _ => MinSymbol,
    };

    public IEnumerable<(CharClass Class, int Min)> Pairs()
    {
        yield return (CharClass.Upper, MinUpper);
        yield return (CharClass.Lower, MinLower);
        yield return (CharClass.Digit, MinDigit);
        yield return (CharClass.Symbol, MinSymbol);
    }

    /// <summary>True when <paramref name="counts"/> (indexed by CharClass) meets every minimum.</summary>
    public bool IsMetBy(ReadOnlySpan<int> counts) =>
        counts[0] >= MinUpper && counts[1] >= MinLower && counts[2] >= MinDigit && counts[3] >= MinSymbol;
}

/// <summary>
/// Exact count of the strings of length n over an alphabet that meet class minimums, by inclusion-exclusion over
/// the events "class i occurs fewer than m_i times". For a set S of failing classes, the strings where every class
/// in S occurs k_i &lt; m_i times number sum_j W_S(j) C(n, j) (A - sum_S s_i)^(n-j), where W_S(j) counts strings of
/// length j over the classes of S with those per-class counts (built class by class: W'(j+k) += W(j) C(j+k, k) s^k).
/// </summary>
internal static class ClassCounting
{
    public static BigInteger CountValid(int n, string alphabet, ClassRequirement req)
    {
        var sizes = new int[4];
        foreach (var c in alphabet)
        {
            sizes[(int)CharClasses.Of(c)]++;
        }
        var mins = new[] { req.MinUpper, req.MinLower, req.MinDigit, req.MinSymbol };
        var required = Enumerable.Range(0, 4).Where(i => mins[i] > 0).ToArray();
        var binomial = BinomialRow(n);
        var total = BigInteger.Zero;
        for (var mask = 0; mask < 1 << required.Length; mask++)
        {
            var ways = new BigInteger[] { BigInteger.One };
            var removed = 0;
            var bits = 0;
            for (var b = 0; b < required.Length; b++)
            {
                if ((mask & (1 << b)) == 0)
                {
                    continue;
                }
                bits++;
                var cls = required[b];
                removed += sizes[cls];
                ways = AddClass(ways, sizes[cls], Math.Min(mins[cls] - 1, n));
            }
            var rest = new BigInteger(alphabet.Length - removed);
            var term = BigInteger.Zero;
            // From the largest j down, so rest^(n-j) grows by one multiplication per step instead of a Pow each.
            var top = Math.Min(ways.Length - 1, n);
            var power = BigInteger.Pow(rest, n - top);
            for (var j = top; j >= 0; j--)
            {
                if (!ways[j].IsZero)
                {
                    term += ways[j] * binomial[j] * power;
                }
                power *= rest;
            }
            total += bits % 2 == 0 ? term : -term;
        }
        return total;
    }

    // Strings of each length j over the classes added so far, extended by one class used 0..maxCount times.
    private static BigInteger[] AddClass(BigInteger[] ways, int size, int maxCount)
    {
        var next = new BigInteger[ways.Length + maxCount];
        for (var j = 0; j < ways.Length; j++)
        {
            if (ways[j].IsZero)
            {
                continue;
            }
            var choose = BigInteger.One; // C(j + k, k)
            var power = BigInteger.One;  // size^k
            for (var k = 0; k <= maxCount; k++)
            {
                next[j + k] += ways[j] * choose * power;
                choose = choose * (j + k + 1) / (k + 1);
                power *= size;
            }
        }
        return next;
    }

    private static BigInteger[] BinomialRow(int n)
    {
        var row = new BigInteger[n + 1];
        row[0] = BigInteger.One;
        for (var k = 1; k <= n; k++)
        {
            row[k] = row[k - 1] * (n - k + 1) / k;
        }
        return row;
    }
}

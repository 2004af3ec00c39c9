namespace Rotation.Core.Tests.Secrets;

/// <summary>
/// Pearson's chi-square goodness-of-fit against the uniform distribution, with one fixed significance level.
/// The threshold is the upper 1e-6 quantile of chi-square with k-1 degrees of freedom (Wilson-Hilferty
/// approximation, accurate to well under 1% for df >= 10): a correct generator fails a check once in a million
/// runs, so a red test means bias, not bad luck; <see cref="UniformityTests"/> shows the same threshold catches a
/// modulo-biased generator at the same sample sizes.
/// </summary>
public static class ChiSquare
{
    /// <summary>z for an upper tail of 1e-6.</summary>
    public const double Z = 4.753424;

    public static double Statistic(IReadOnlyList<long> observed)
    {
        var total = observed.Sum();
        var expected = (double)total / observed.Count;
        return observed.Sum(o => (o - expected) * (o - expected) / expected);
    }

    public static double Critical(int degreesOfFreedom)
    {
        var k = (double)degreesOfFreedom;
        var a = 2.0 / (9.0 * k);
        return k * Math.Pow(1 - a + (Z * Math.Sqrt(a)), 3);
    }

    public static void AssertUniform(IReadOnlyList<long> observed, string what)
    {
        Assert.True(observed.Count >= 2, "need at least two bins");
        Assert.True(observed.Min() > 0 || observed.Sum() < observed.Count * 5L, $"{what}: a bin was never hit");
        var min = (double)observed.Sum() / observed.Count;
        Assert.True(min >= 5, $"{what}: expected count per bin {min:F1} is too small for chi-square");
        var stat = Statistic(observed);
        var critical = Critical(observed.Count - 1);
        Assert.True(stat < critical, $"{what}: chi-square {stat:F1} exceeds the 1e-6 critical value {critical:F1} for {observed.Count - 1} degrees of freedom");
    }
}

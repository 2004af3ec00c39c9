using System.Text;

namespace Rotation.Core.Tests.Infrastructure;

/// <summary>
/// The no-leak rule as an assertion: none of the secret values a test produced appears in anything it captured
/// (messages, logs, audit lines, journal files, ToString of output objects), in plain text or in common encodings.
/// Failure messages name the haystack, never the secret.
/// </summary>
public static class LeakAssert
{
    public static void NoneOf(IEnumerable<string> secrets, IEnumerable<(string Name, string Text)> captured)
    {
        var secretList = secrets.Where(s => s.Length >= 6).Distinct().ToList();
        foreach (var (name, text) in captured)
        {
            foreach (var secret in secretList)
            {
                foreach (var form in Forms(secret))
                {
                    if (text.Contains(form, StringComparison.Ordinal))
                    {
                        Assert.Fail($"A secret value (length {secret.Length}) appears in {name}.");
                    }
                }
            }
        }
    }

    /// <summary>Every file below a folder (journal, audit log, state) as captured text.</summary>
    public static IEnumerable<(string Name, string Text)> FilesUnder(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => (f, File.ReadAllText(f)))
            : [];

    private static IEnumerable<string> Forms(string secret)
    {
        yield return secret;
        yield return Convert.ToBase64String(Encoding.UTF8.GetBytes(secret));
        yield return System.Text.Json.JsonSerializer.Serialize(secret).Trim('"');
        yield return Uri.EscapeDataString(secret);
    }
}

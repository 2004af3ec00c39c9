using System.Xml;

namespace Rotation.HelpGen;

/// <summary>
/// Usage: Rotation.HelpGen &lt;docs/en-US&gt; &lt;output en-US folder&gt; [assembly name, default Rotation.dll].
/// Writes &lt;assembly&gt;-Help.xml from every Verb-Noun.md and about_X.help.txt from every about_X.md.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: Rotation.HelpGen <docs/en-US folder> <output en-US folder> [Rotation.dll]");
            return 2;
        }
        try
        {
            var written = Generate(args[0], args[1], args.Length > 2 ? args[2] : "Rotation.dll");
            foreach (var file in written)
            {
                Console.WriteLine($"wrote {file}");
            }
            return 0;
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"help generation failed: {ex.Message}");
            return 1;
        }
    }

    public static IReadOnlyList<string> Generate(string docsFolder, string outputFolder, string assemblyFileName = "Rotation.dll")
    {
        Directory.CreateDirectory(outputFolder);
        var files = Directory.GetFiles(docsFolder, "*.md").Order(StringComparer.Ordinal).ToList();
        var written = new List<string>();
        var commands = files.Where(f => !IsAbout(f)).Select(MarkdownHelpParser.ParseFile).ToList();
        var mamlPath = Path.Combine(outputFolder, assemblyFileName + "-Help.xml");
        using (var writer = XmlWriter.Create(mamlPath, new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) }))
        {
            MamlWriter.Write(commands).Save(writer);
        }
        written.Add(mamlPath);
        foreach (var about in files.Where(IsAbout))
        {
            var target = Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(about) + ".help.txt");
            File.WriteAllText(target, AboutTopicWriter.Convert(File.ReadAllText(about)));
            written.Add(target);
        }
        return written;
    }

    private static bool IsAbout(string path) => Path.GetFileName(path).StartsWith("about_", StringComparison.OrdinalIgnoreCase);
}

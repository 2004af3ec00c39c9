using System.Text;
using System.Text.RegularExpressions;

namespace Rotation.HelpGen;

/// <summary>
/// Reads platyPS command markdown (schema 2.0.0): front matter, "# Verb-Noun", then level-2 sections SYNOPSIS,
/// SYNTAX, DESCRIPTION, EXAMPLES, PARAMETERS, INPUTS, OUTPUTS, NOTES, RELATED LINKS. Lines inside code fences are
/// never headings (a PowerShell comment starts with '#').
/// </summary>
public static partial class MarkdownHelpParser
{
    public static CommandHelp ParseFile(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    public static CommandHelp Parse(string markdown, string source = "markdown")
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var index = 0;
        var front = ReadFrontMatter(lines, ref index);
        var blocks = SplitSections(lines, index, source, out var name);
        var help = new CommandHelp
        {
            Name = name,
            ExternalHelpFile = front.GetValueOrDefault("external help file"),
            ModuleName = front.GetValueOrDefault("Module Name"),
        };
        foreach (var (heading, body) in blocks)
        {
            help.Sections.Add(heading);
            switch (heading.ToUpperInvariant())
            {
                case "SYNOPSIS":
                    help.Synopsis = Text(body);
                    break;
                case "DESCRIPTION":
                    help.Description = Text(body);
                    break;
                case "NOTES":
                    help.Notes = Text(body);
                    break;
                case "SYNTAX":
                    foreach (var (title, content) in SubSections(body))
                    {
                        var isDefault = title.EndsWith("(Default)", StringComparison.OrdinalIgnoreCase);
                        var set = isDefault ? title[..^"(Default)".Length].Trim() : title.Trim();
                        help.Syntax.Add(new SyntaxEntry(set, isDefault, CodeBlocks(content).FirstOrDefault() ?? string.Empty));
                    }
                    break;
                case "EXAMPLES":
                    foreach (var (title, content) in SubSections(body))
                    {
                        help.Examples.Add(new ExampleHelp(title, string.Join("\n\n", CodeBlocks(content)), Text(WithoutCode(content))));
                    }
                    break;
                case "PARAMETERS":
                    foreach (var (title, content) in SubSections(body))
                    {
                        if (title.Equals("CommonParameters", StringComparison.OrdinalIgnoreCase))
                        {
                            help.HasCommonParameters = true;
                            continue;
                        }
                        help.Parameters.Add(ParseParameter(title.TrimStart('-').Trim(), content));
                    }
                    break;
                case "INPUTS":
                    help.Inputs.AddRange(SubSections(body).Select(s => new TypeHelp(s.Title, Text(s.Body))));
                    break;
                case "OUTPUTS":
                    help.Outputs.AddRange(SubSections(body).Select(s => new TypeHelp(s.Title, Text(s.Body))));
                    break;
                case "RELATED LINKS":
                    foreach (Match m in LinkPattern().Matches(string.Join("\n", body)))
                    {
                        help.RelatedLinks.Add((m.Groups[1].Value, m.Groups[2].Value));
                    }
                    break;
            }
        }
        return help;
    }

    private static Dictionary<string, string> ReadFrontMatter(string[] lines, ref int index)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (index < lines.Length && lines[index].Trim().Length == 0)
        {
            index++;
        }
        if (index >= lines.Length || lines[index].Trim() != "---")
        {
            return map;
        }
        for (index++; index < lines.Length && lines[index].Trim() != "---"; index++)
        {
            var colon = lines[index].IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                map[lines[index][..colon].Trim()] = lines[index][(colon + 1)..].Trim();
            }
        }
        index++;
        return map;
    }

    private static List<(string Heading, List<string> Body)> SplitSections(string[] lines, int start, string source, out string name)
    {
        var sections = new List<(string, List<string>)>();
        string? title = null;
        List<string>? current = null;
        var fence = false;
        for (var i = start; i < lines.Length; i++)
        {
            var line = lines[i];
            if (IsFence(line))
            {
                fence = !fence;
            }
            else if (!fence && line.StartsWith("# ", StringComparison.Ordinal) && title is null)
            {
                title = line[2..].Trim();
                continue;
            }
            else if (!fence && line.StartsWith("## ", StringComparison.Ordinal))
            {
                current = [];
                sections.Add((line[3..].Trim(), current));
                continue;
            }
            current?.Add(line);
        }
        name = title ?? throw new FormatException($"{source}: no '# Verb-Noun' title.");
        return sections;
    }

    /// <summary>"### Title" blocks of a section (fence-aware).</summary>
    internal static List<(string Title, List<string> Body)> SubSections(List<string> body)
    {
        var result = new List<(string, List<string>)>();
        List<string>? current = null;
        var fence = false;
        foreach (var line in body)
        {
            if (IsFence(line))
            {
                fence = !fence;
            }
            else if (!fence && line.StartsWith("### ", StringComparison.Ordinal))
            {
                current = [];
                result.Add((line[4..].Trim(), current));
                continue;
            }
            current?.Add(line);
        }
        return result;
    }

    internal static List<string> CodeBlocks(List<string> body)
    {
        var blocks = new List<string>();
        StringBuilder? current = null;
        foreach (var line in body)
        {
            if (IsFence(line))
            {
                if (current is null)
                {
                    current = new StringBuilder();
                }
                else
                {
                    blocks.Add(current.ToString().TrimEnd('\n'));
                    current = null;
                }
            }
            else
            {
                current?.Append(line).Append('\n');
            }
        }
        return blocks;
    }

    private static List<string> WithoutCode(List<string> body)
    {
        var result = new List<string>();
        var fence = false;
        foreach (var line in body)
        {
            if (IsFence(line))
            {
                fence = !fence;
            }
            else if (!fence)
            {
                result.Add(line);
            }
        }
        return result;
    }

    private static ParameterHelp ParseParameter(string name, List<string> body)
    {
        var p = new ParameterHelp { Name = name, Description = Text(WithoutCode(body)) };
        var yamlBlocks = new List<List<string>>();
        List<string>? yaml = null;
        foreach (var line in body)
        {
            if (IsFence(line))
            {
                if (yaml is null && line.Trim().StartsWith("```yaml", StringComparison.OrdinalIgnoreCase))
                {
                    yaml = [];
                    yamlBlocks.Add(yaml);
                }
                else
                {
                    yaml = null;
                }
            }
            else
            {
                yaml?.Add(line);
            }
        }
        // platyPS writes one block per group of sets when Required or Position differ between sets.
        foreach (var block in yamlBlocks)
        {
            var map = block.Select(l => l.Split(':', 2)).Where(kv => kv.Length == 2)
                .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim(), StringComparer.OrdinalIgnoreCase);
            var sets = map.GetValueOrDefault("Parameter Sets", "(All)");
            var setList = sets.Length == 0 ? ["(All)"] : sets.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var set in setList)
            {
                if (!p.ParameterSets.Contains(set, StringComparer.OrdinalIgnoreCase))
                {
                    p.ParameterSets.Add(set);
                }
                p.RequiredBySet[set] = map.GetValueOrDefault("Required", "False").Equals("True", StringComparison.OrdinalIgnoreCase);
            }
            p.Type = map.GetValueOrDefault("Type", p.Type);
            p.Aliases = map.GetValueOrDefault("Aliases", p.Aliases);
            p.Position = map.GetValueOrDefault("Position", p.Position);
            p.DefaultValue = map.GetValueOrDefault("Default value", p.DefaultValue);
            p.PipelineInput = map.GetValueOrDefault("Accept pipeline input", p.PipelineInput);
            p.Globbing = map.GetValueOrDefault("Accept wildcard characters", "False").Equals("True", StringComparison.OrdinalIgnoreCase);
        }
        return p;
    }

    private static bool IsFence(string line) => line.TrimStart().StartsWith("```", StringComparison.Ordinal);

    /// <summary>Body text with surrounding blank lines trimmed; paragraphs stay separated by one blank line.</summary>
    private static string Text(List<string> body)
    {
        var paragraphs = Paragraphs(string.Join("\n", body));
        return string.Join("\n\n", paragraphs);
    }

    public static IEnumerable<string> Paragraphs(string text) =>
        ParagraphBreak().Split(text.Trim()).Select(p => p.Trim()).Where(p => p.Length > 0);

    [GeneratedRegex(@"\n[ \t]*\n+")]
    private static partial Regex ParagraphBreak();

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)]*)\)")]
    private static partial Regex LinkPattern();
}

using System.Text;

namespace Rotation.HelpGen;

/// <summary>
/// Converts a platyPS about topic (# about_X, ## SHORT DESCRIPTION, ## LONG DESCRIPTION, ...) into the plain text
/// Get-Help shows for about_X.help.txt: headings in capitals at the margin, body indented four spaces and wrapped
/// at 80 columns; code blocks kept as written, indented.
/// </summary>
public static class AboutTopicWriter
{
    public const int Width = 80;

    public static string Convert(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var output = new StringBuilder();
        var paragraph = new List<string>();
        var fence = false;
        var sawTitle = false;

        void Flush()
        {
            if (paragraph.Count == 0)
            {
                return;
            }
            var bullet = paragraph[0].TrimStart().StartsWith("- ", StringComparison.Ordinal) || paragraph[0].TrimStart().StartsWith("* ", StringComparison.Ordinal);
            if (bullet)
            {
                // Each list item wraps on its own, with a hanging indent.
                var items = new List<string>();
                foreach (var l in paragraph)
                {
                    var t = l.Trim();
                    if (t.StartsWith("- ", StringComparison.Ordinal) || t.StartsWith("* ", StringComparison.Ordinal))
                    {
                        items.Add(t[2..]);
                    }
                    else if (items.Count > 0)
                    {
                        items[^1] += " " + t;
                    }
                }
                foreach (var item in items)
                {
                    Wrap(output, item, "    - ", "      ");
                }
            }
            else
            {
                Wrap(output, string.Join(" ", paragraph.Select(l => l.Trim())), "    ", "    ");
            }
            output.Append('\n');
            paragraph.Clear();
        }

        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                Flush();
                fence = !fence;
                if (!fence)
                {
                    output.Append('\n');
                }
                continue;
            }
            if (fence)
            {
                output.Append("        ").Append(line).Append('\n');
                continue;
            }
            if (line.StartsWith("# ", StringComparison.Ordinal) && !sawTitle)
            {
                sawTitle = true;
                output.Append("TOPIC\n    ").Append(line[2..].Trim()).Append("\n\n");
                continue;
            }
            if (line.StartsWith("## ", StringComparison.Ordinal) || line.StartsWith("### ", StringComparison.Ordinal))
            {
                Flush();
                var level3 = line.StartsWith("### ", StringComparison.Ordinal);
                var heading = line.TrimStart('#').Trim();
                output.Append(level3 ? "  " + heading : heading.ToUpperInvariant()).Append('\n');
                continue;
            }
            if (line.Trim().Length == 0)
            {
                Flush();
                continue;
            }
            paragraph.Add(line);
        }
        Flush();
        return output.ToString().TrimEnd('\n') + "\n";
    }

    private static void Wrap(StringBuilder output, string text, string firstIndent, string indent)
    {
        var line = new StringBuilder(firstIndent);
        var empty = true;
        foreach (var word in text.Replace("**", string.Empty, StringComparison.Ordinal).Replace("`", string.Empty, StringComparison.Ordinal)
                     .Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > Width)
            {
                output.Append(line).Append('\n');
                line.Clear().Append(indent);
                empty = true;
            }
            if (!empty)
            {
                line.Append(' ');
            }
            line.Append(word);
            empty = false;
        }
        output.Append(line).Append('\n');
    }
}

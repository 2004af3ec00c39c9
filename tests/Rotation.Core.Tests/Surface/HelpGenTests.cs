using System.Xml.Linq;
using Rotation.Core.Tests.Infrastructure;
using Rotation.HelpGen;

namespace Rotation.Core.Tests.Surface;

/// <summary>The help generator run on the real docs: the MAML Get-Help will read and the about_ topic.</summary>
public sealed class HelpGenTests
{
    private static readonly XNamespace Maml = MamlWriter.Maml;
    private static readonly XNamespace Command = MamlWriter.Command;
    private static readonly XNamespace Dev = MamlWriter.Dev;

    [Fact]
    public void Real_docs_convert_to_MAML_with_every_cmdlet_complete()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var written = Program.Generate(RepoRoot.Combine("docs", "en-US"), dir.Path);
        Assert.Contains(dir.File("Rotation.dll-Help.xml"), written);

        var doc = XDocument.Load(dir.File("Rotation.dll-Help.xml"));
        Assert.Equal(MamlWriter.Msh + "helpItems", doc.Root!.Name);
        Assert.Equal("maml", doc.Root.Attribute("schema")?.Value);
        var commands = doc.Root.Elements(Command + "command").ToDictionary(c => c.Element(Command + "details")!.Element(Command + "name")!.Value);

        foreach (var cmdlet in CmdletSurface.All())
        {
            Assert.True(commands.TryGetValue(cmdlet.Name, out var c), $"no command element for {cmdlet.Name}");
            var details = c!.Element(Command + "details")!;
            Assert.Equal(cmdlet.Verb, details.Element(Command + "verb")?.Value);
            Assert.Equal(cmdlet.Noun, details.Element(Command + "noun")?.Value);
            Assert.False(string.IsNullOrWhiteSpace(details.Element(Maml + "description")?.Value), $"{cmdlet.Name}: no synopsis");
            Assert.False(string.IsNullOrWhiteSpace(c.Element(Maml + "description")?.Value), $"{cmdlet.Name}: no description");
            Assert.True(c.Element(Command + "examples")!.Elements(Command + "example").Count() >= 2, $"{cmdlet.Name}: fewer than two examples");
            foreach (var example in c.Element(Command + "examples")!.Elements(Command + "example"))
            {
                Assert.False(string.IsNullOrWhiteSpace(example.Element(Dev + "code")?.Value));
                Assert.NotNull(example.Element(Maml + "title"));
                Assert.NotNull(example.Element(Dev + "remarks"));
            }

            var parameters = c.Element(Command + "parameters")!.Elements(Command + "parameter").ToList();
            foreach (var p in cmdlet.Parameters)
            {
                var element = parameters.SingleOrDefault(e => e.Element(Maml + "name")?.Value == p.Name);
                Assert.True(element is not null, $"{cmdlet.Name}: no parameter element for -{p.Name}");
                Assert.Equal(p.Mandatory ? "true" : "false", element!.Attribute("required")?.Value);
                Assert.NotNull(element.Attribute("pipelineInput"));
                Assert.NotNull(element.Attribute("position"));
                Assert.Equal(p.Type.Name, element.Element(Dev + "type")?.Element(Maml + "name")?.Value);
                Assert.False(string.IsNullOrWhiteSpace(element.Element(Maml + "description")?.Value), $"{cmdlet.Name} -{p.Name}: no description");
            }

            // One syntax item per parameter set, each holding exactly the parameters of that set.
            var syntax = c.Element(Command + "syntax")!.Elements(Command + "syntaxItem").ToList();
            var sets = cmdlet.Parameters.SelectMany(p => p.Sets).Where(s => s != "(All)").Distinct().ToList();
            Assert.Equal(Math.Max(1, sets.Count), syntax.Count);
            foreach (var item in syntax)
            {
                Assert.Equal(cmdlet.Name, item.Element(Maml + "name")?.Value);
                Assert.NotEmpty(item.Elements(Command + "parameter"));
            }
            Assert.NotEmpty(c.Element(Command + "returnValues")!.Elements(Command + "returnValue"));
            Assert.NotNull(c.Element(Command + "inputTypes"));
        }
    }

    [Fact]
    public void Syntax_items_follow_parameter_sets_and_switches_take_no_value()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        Program.Generate(RepoRoot.Combine("docs", "en-US"), dir.Path);
        var doc = XDocument.Load(dir.File("Rotation.dll-Help.xml"));
        var secret = doc.Root!.Elements(Command + "command").Single(c => c.Element(Command + "details")!.Element(Command + "name")!.Value == "New-RotationSecret");
        var items = secret.Element(Command + "syntax")!.Elements(Command + "syntaxItem").ToList();
        var names = items.Select(i => i.Elements(Command + "parameter").Select(p => p.Element(Maml + "name")!.Value).ToHashSet()).ToList();
        // Default set (Policy) first; Preset's set has -Preset, required, and none of the policy parameters.
        Assert.Contains("Length", names[0]);
        Assert.DoesNotContain("Preset", names[0]);
        Assert.Contains("Preset", names[1]);
        Assert.DoesNotContain("Length", names[1]);
        Assert.Equal("true", items[1].Elements(Command + "parameter").Single(p => p.Element(Maml + "name")!.Value == "Preset").Attribute("required")!.Value);
        var asPlainText = items[0].Elements(Command + "parameter").Single(p => p.Element(Maml + "name")!.Value == "AsPlainText");
        Assert.Null(asPlainText.Element(Command + "parameterValue"));
        Assert.Equal("True (ByPropertyName, ByValue)", items[0].Elements(Command + "parameter").Single(p => p.Element(Maml + "name")!.Value == "Name").Attribute("pipelineInput")!.Value);
    }

    [Fact]
    public void About_topic_converts_to_help_text()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        Program.Generate(RepoRoot.Combine("docs", "en-US"), dir.Path);
        var text = File.ReadAllText(dir.File("about_Rotation.help.txt"));
        Assert.StartsWith("TOPIC\n    about_Rotation\n", text, StringComparison.Ordinal);
        Assert.Contains("\nSHORT DESCRIPTION\n    ", text, StringComparison.Ordinal);
        Assert.Contains("\nLONG DESCRIPTION\n", text, StringComparison.Ordinal);
        Assert.Contains("\nSECURITY NOTES\n", text, StringComparison.Ordinal);
        Assert.Contains("not encrypted in memory", text, StringComparison.Ordinal);
        Assert.All(text.Split('\n'), line => Assert.True(line.Length <= AboutTopicWriter.Width || line.StartsWith("        ", StringComparison.Ordinal),
            $"line longer than {AboutTopicWriter.Width} columns outside a code block: {line}"));
        Assert.DoesNotContain("```", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parameter_required_in_one_set_only_is_required_there_only()
    {
        const string yaml = "```yaml\nType: String\nParameter Sets: {0}\nAliases:\n\nRequired: {1}\nPosition: {2}\nDefault value: None\nAccept pipeline input: True (ByPropertyName)\nAccept wildcard characters: False\n```\n";
        var md = "# Get-Thing\n\n## SYNOPSIS\nGets.\n\n## SYNTAX\n\n### ByUri (Default)\n```\nGet-Thing -Uri <String>\n```\n\n### ByName\n```\nGet-Thing [-Uri <String>] -Name <String>\n```\n\n" +
            "## PARAMETERS\n\n### -Uri\nThe address.\n\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, yaml, "ByUri", "True", "0") + "\n" +
            string.Format(System.Globalization.CultureInfo.InvariantCulture, yaml, "ByName", "False", "Named") +
            "\n### -Name\nThe name.\n\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, yaml, "ByName", "True", "Named");
        var help = MarkdownHelpParser.Parse(md);
        var uri = help.Parameters.Single(p => p.Name == "Uri");
        Assert.Equal(["ByUri", "ByName"], uri.ParameterSets);
        Assert.True(uri.RequiredIn("ByUri"));
        Assert.False(uri.RequiredIn("ByName"));
        Assert.Equal("The address.", uri.Description);

        var maml = MamlWriter.Write([help]);
        var items = maml.Descendants(Command + "syntaxItem").ToList();
        Assert.Equal(2, items.Count);
        string Required(XElement item, string name) =>
            item.Elements(Command + "parameter").Single(p => p.Element(Maml + "name")!.Value == name).Attribute("required")!.Value;
        Assert.Equal("true", Required(items[0], "Uri"));
        Assert.Equal("false", Required(items[1], "Uri"));
        Assert.Equal("true", Required(items[1], "Name"));
        Assert.DoesNotContain(items[0].Elements(Command + "parameter"), p => p.Element(Maml + "name")!.Value == "Name");
    }

    [Fact]
    public void Parser_ignores_hash_lines_inside_code_fences()
    {
        const string md = "---\nexternal help file: Rotation.dll-Help.xml\nModule Name: Rotation\n---\n\n# Get-Thing\n\n## SYNOPSIS\nGets.\n\n" +
            "## EXAMPLES\n\n### Example 1: One\n```powershell\n# a comment\n## not a section\nGet-Thing\n```\n\nText.\n\n## PARAMETERS\n\n### CommonParameters\nCommon.\n";
        var help = MarkdownHelpParser.Parse(md);
        Assert.Equal("Get-Thing", help.Name);
        Assert.Equal(["SYNOPSIS", "EXAMPLES", "PARAMETERS"], help.Sections);
        Assert.Contains("## not a section", help.Examples.Single().Code, StringComparison.Ordinal);
        Assert.Equal("Text.", help.Examples.Single().Remarks);
        Assert.True(help.HasCommonParameters);
    }
}

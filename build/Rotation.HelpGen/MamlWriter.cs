using System.Xml.Linq;

namespace Rotation.HelpGen;

/// <summary>
/// Writes the MAML Get-Help reads for a binary module (&lt;assembly&gt;-Help.xml beside the dll, in en-US): one
/// command:command per cmdlet, with details, description, one syntaxItem per parameter set, parameters,
/// input types, return values, notes, examples and related links.
/// </summary>
public static class MamlWriter
{
    public static readonly XNamespace Msh = "http://msh";
    public static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    public static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    public static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    public static readonly XNamespace MSHelp = "http://msdn.microsoft.com/mshelp";

    public static XDocument Write(IEnumerable<CommandHelp> commands) =>
        new(new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems",
                new XAttribute("schema", "maml"),
                commands.OrderBy(c => c.Name, StringComparer.Ordinal).Select(CommandElement)));

    private static XElement CommandElement(CommandHelp help) =>
        new(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XAttribute(XNamespace.Xmlns + "MSHelp", MSHelp),
            new XElement(Command + "details",
                new XElement(Command + "name", help.Name),
                new XElement(Command + "verb", help.Verb),
                new XElement(Command + "noun", help.Noun),
                Description(help.Synopsis)),
            Description(help.Description),
            new XElement(Command + "syntax", SyntaxItems(help)),
            new XElement(Command + "parameters", help.Parameters.Select(p => Parameter(p, p.RequiredAnywhere))),
            new XElement(Command + "inputTypes", help.Inputs.Select(t => new XElement(Command + "inputType", TypeElement(t.TypeName), Description(t.Description)))),
            new XElement(Command + "returnValues", help.Outputs.Select(t => new XElement(Command + "returnValue", TypeElement(t.TypeName), Description(t.Description)))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paras(help.Notes))),
            new XElement(Command + "examples", help.Examples.Select(Example)),
            new XElement(Command + "relatedLinks", help.RelatedLinks.Select(l =>
                new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", l.Text), new XElement(Maml + "uri", l.Uri)))));

    // Default set first, as Get-Help lists it; a command without SYNTAX subsections gets one item with every parameter.
    private static IEnumerable<XElement> SyntaxItems(CommandHelp help)
    {
        var sets = help.Syntax.OrderByDescending(s => s.IsDefault).Select(s => s.ParameterSet).ToList();
        if (sets.Count == 0)
        {
            sets.Add("(All)");
        }
        return sets.Select(set => new XElement(Command + "syntaxItem",
            new XElement(Maml + "name", help.Name),
            help.Parameters.Where(p => set == "(All)" || p.InSet(set)).Select(p => Parameter(p, p.RequiredIn(set)))));
    }

    private static XElement Parameter(ParameterHelp p, bool required)
    {
        var position = int.TryParse(p.Position, out var n) ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "named";
        var aliases = string.IsNullOrWhiteSpace(p.Aliases) ? "none" : p.Aliases;
        var element = new XElement(Command + "parameter",
            new XAttribute("required", required ? "true" : "false"),
            new XAttribute("variableLength", "true"),
            new XAttribute("globbing", p.Globbing ? "true" : "false"),
            new XAttribute("pipelineInput", p.PipelineInput),
            new XAttribute("position", position),
            new XAttribute("aliases", aliases),
            new XElement(Maml + "name", p.Name),
            Description(p.Description));
        if (!p.IsSwitch)
        {
            element.Add(new XElement(Command + "parameterValue",
                new XAttribute("required", "true"), new XAttribute("variableLength", "false"), p.Type));
        }
        element.Add(TypeElement(p.Type));
        element.Add(new XElement(Dev + "defaultValue", p.IsSwitch && p.DefaultValue == "None" ? "False" : p.DefaultValue));
        return element;
    }

    private static XElement Example(ExampleHelp e) =>
        new(Command + "example",
            new XElement(Maml + "title", $"--------- {e.Title} ---------"),
            new XElement(Dev + "code", e.Code),
            new XElement(Dev + "remarks", Paras(e.Remarks)));

    private static XElement TypeElement(string name) =>
        new(Dev + "type", new XElement(Maml + "name", name), new XElement(Maml + "uri"));

    private static XElement Description(string text) => new(Maml + "description", Paras(text));

    private static IEnumerable<XElement> Paras(string text)
    {
        var paragraphs = MarkdownHelpParser.Paragraphs(text).ToList();
        return paragraphs.Count == 0 ? [new XElement(Maml + "para")] : paragraphs.Select(p => new XElement(Maml + "para", p.ReplaceLineEndings(" ")));
    }
}

namespace Rotation.HelpGen;

/// <summary>One cmdlet's help as platyPS markdown holds it.</summary>
public sealed class CommandHelp
{
    public required string Name { get; init; }

    public string? ExternalHelpFile { get; init; }

    public string? ModuleName { get; init; }

    public string Synopsis { get; set; } = string.Empty;

    public string Description { get; set; } = string.Empty;

    /// <summary>Parameter sets in SYNTAX order: name, whether it is the default, and the syntax line.</summary>
    public List<SyntaxEntry> Syntax { get; } = [];

    public List<ExampleHelp> Examples { get; } = [];

    public List<ParameterHelp> Parameters { get; } = [];

    /// <summary>True when PARAMETERS has a "### CommonParameters" entry.</summary>
    public bool HasCommonParameters { get; set; }

    public List<TypeHelp> Inputs { get; } = [];

    public List<TypeHelp> Outputs { get; } = [];

    public string Notes { get; set; } = string.Empty;

    public List<(string Text, string Uri)> RelatedLinks { get; } = [];

    /// <summary>The level-2 headings found, in order (for structure checks).</summary>
    public List<string> Sections { get; } = [];

    public string Verb => Name.Split('-', 2)[0];

    public string Noun => Name.Contains('-', StringComparison.Ordinal) ? Name.Split('-', 2)[1] : string.Empty;
}

public sealed record SyntaxEntry(string ParameterSet, bool IsDefault, string Text);

public sealed record ExampleHelp(string Title, string Code, string Remarks);

public sealed record TypeHelp(string TypeName, string Description);

public sealed class ParameterHelp
{
    public required string Name { get; init; }

    public string Description { get; set; } = string.Empty;

    public string Type { get; set; } = "Object";

    /// <summary>"(All)" or the names of the sets this parameter belongs to.</summary>
    public List<string> ParameterSets { get; } = [];

    /// <summary>Required per parameter set; "(All)" when one answer covers every set.</summary>
    public Dictionary<string, bool> RequiredBySet { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string Aliases { get; set; } = string.Empty;

    public string Position { get; set; } = "Named";

    public string DefaultValue { get; set; } = "None";

    public string PipelineInput { get; set; } = "False";

    public bool Globbing { get; set; }

    public bool IsSwitch => Type is "SwitchParameter" or "System.Management.Automation.SwitchParameter";

    public bool InSet(string set) => ParameterSets.Count == 0 || ParameterSets.Contains("(All)") ||
        ParameterSets.Contains(set, StringComparer.OrdinalIgnoreCase);

    public bool RequiredIn(string set) =>
        RequiredBySet.TryGetValue(set, out var r) ? r : RequiredBySet.TryGetValue("(All)", out var all) && all;

    public bool RequiredAnywhere => RequiredBySet.Values.Any(v => v);
}

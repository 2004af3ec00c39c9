using System.Management.Automation;
using System.Security;
using System.Text.RegularExpressions;
using Rotation.Core.Stores;
using Rotation.HelpGen;

namespace Rotation.Core.Tests.Surface;

/// <summary>
/// The rules every cmdlet of the module keeps (STYLE.md, DESIGN.md section 1), checked on the compiled surface:
/// one test case per cmdlet class, so a failure names the cmdlet.
/// </summary>
public sealed partial class CmdletSurfaceTests
{
    /// <summary>DESIGN.md section 1, the pipeline vocabulary: one name means one type everywhere.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Vocabulary = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        ["Uri"] = typeof(string),
        ["Stage"] = typeof(SecretStage),
        ["Value"] = typeof(SecureString),
        ["Credential"] = typeof(PSCredential),
        ["User"] = typeof(string),
        ["Server"] = typeof(string),
        ["Port"] = typeof(int),
        ["Database"] = typeof(string),
        ["Endpoint"] = typeof(string[]),
        ["Kid"] = typeof(string),
        ["Context"] = typeof(string),
        ["Namespace"] = typeof(string),
        ["Name"] = typeof(string),
        ["Workload"] = typeof(string),
        ["RunId"] = typeof(string),
        ["Fingerprint"] = typeof(string),
    };

    /// <summary>
    /// Verbs whose every use changes state: these cmdlets must support -WhatIf/-Confirm. New- joins them when
    /// the cmdlet can write files or stores (a -Uri or -*Path parameter). Independently of the verb, a class
    /// that calls ShouldProcess must declare SupportsShouldProcess and a class that declares it must call it
    /// (read from the IL), so neither half can drift.
    /// </summary>
    public static readonly IReadOnlySet<string> StateChangingVerbs = new HashSet<string>(StringComparer.Ordinal)
    {
        VerbsCommon.Set, VerbsCommon.Remove, VerbsCommon.Undo, VerbsCommon.Add, VerbsCommon.Clear, VerbsCommon.Reset,
        VerbsCommon.Rename, VerbsCommon.Move, VerbsCommon.Copy, VerbsCommon.Switch, VerbsLifecycle.Complete,
        VerbsLifecycle.Resume, VerbsLifecycle.Invoke, VerbsLifecycle.Restart, VerbsLifecycle.Register,
        VerbsLifecycle.Unregister, VerbsLifecycle.Install, VerbsLifecycle.Uninstall, VerbsLifecycle.Start,
        VerbsLifecycle.Stop, VerbsLifecycle.Enable, VerbsLifecycle.Disable, VerbsData.Sync, VerbsData.Update,
        VerbsData.Publish, VerbsData.Unpublish, VerbsSecurity.Revoke, VerbsSecurity.Grant,
    };

    public static TheoryData<string> CmdletClasses()
    {
        var data = new TheoryData<string>();
        foreach (var t in CmdletSurface.CmdletTypes())
        {
            data.Add(t.Name);
        }
        return data;
    }

    private static Type TypeNamed(string className) => CmdletSurface.CmdletTypes().Single(t => t.Name == className);

    private static CmdletSurface Surface(string className) =>
        CmdletSurface.Of(TypeNamed(className)) ?? throw new Xunit.Sdk.XunitException($"{className} has no [Cmdlet] attribute.");

    [Fact]
    public void The_module_has_cmdlets_and_the_stub_is_read_through_metadata()
    {
        Assert.NotEmpty(CmdletSurface.CmdletTypes());
        // The reason for CustomAttributeData: the stub's attribute bodies are empty.
        var keyPair = CmdletSurface.Of(typeof(Rotation.Commands.NewRotationKeyPairCommand))!;
        Assert.Equal(("New", "RotationKeyPair", true), (keyPair.Verb, keyPair.Noun, keyPair.SupportsShouldProcess));
        // The IL scan finds ShouldProcess inside the ForItem lambda, and finds none where there is none.
        Assert.True(keyPair.CallsShouldProcess());
        Assert.False(CmdletSurface.Of(typeof(Rotation.Commands.NewRotationSecretCommand))!.CallsShouldProcess());
        Assert.Contains("Get", CmdletSurface.ApprovedVerbs());
        Assert.DoesNotContain("Generate", CmdletSurface.ApprovedVerbs());
    }

    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void Class_is_public_sealed_named_for_its_approved_verb_and_noun(string className)
    {
        var type = TypeNamed(className);
        var s = Surface(className);
        Assert.True(type.IsPublic && type.IsSealed, $"{className} must be public sealed.");
        Assert.Contains(s.Verb, CmdletSurface.ApprovedVerbs());
        Assert.Equal($"{s.Verb}{s.Noun}Command", className);
        Assert.True(typeof(Rotation.Infrastructure.RotationCmdlet).IsAssignableFrom(type), $"{className} must derive from RotationCmdlet.");
    }

    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void OutputType_names_public_types(string className)
    {
        var s = Surface(className);
        Assert.True(s.OutputTypes.Count > 0, $"{s.Name} has no [OutputType].");
        foreach (var output in s.OutputTypes)
        {
            var type = output as Type ?? ResolveTypeName(output as string);
            Assert.True(type is not null, $"{s.Name}: [OutputType] names '{output}', which does not resolve to a type.");
            Assert.True(type!.IsPublic || type.IsNestedPublic, $"{s.Name}: output type {type.FullName} is not public.");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void ShouldProcess_is_declared_exactly_when_it_is_called_and_on_every_state_change(string className)
    {
        var s = Surface(className);
        var calls = s.CallsShouldProcess();
        Assert.True(calls == s.SupportsShouldProcess,
            calls ? $"{s.Name} calls ShouldProcess but does not declare SupportsShouldProcess."
                  : $"{s.Name} declares SupportsShouldProcess but never calls ShouldProcess.");
        var writes = s.Parameters.Any(p => p.Name == "Uri" || p.Name.EndsWith("Path", StringComparison.Ordinal));
        if (StateChangingVerbs.Contains(s.Verb) || (s.Verb == VerbsCommon.New && writes))
        {
            Assert.True(s.SupportsShouldProcess, $"{s.Name} changes state but does not support -WhatIf/-Confirm.");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void Irreversible_cmdlets_have_ConfirmImpact_High(string className)
    {
        var s = Surface(className);
        var irreversible = s.Verb is VerbsCommon.Remove or VerbsCommon.Undo or VerbsSecurity.Revoke
            || s.Noun.Contains("Revocation", StringComparison.Ordinal) || s.Noun.Contains("Emergency", StringComparison.Ordinal);
        if (irreversible)
        {
            Assert.True(s.SupportsShouldProcess && s.ConfirmImpact == ConfirmImpact.High, $"{s.Name} is irreversible: ConfirmImpact must be High.");
        }
        else
        {
            Assert.NotEqual(ConfirmImpact.None, s.ConfirmImpact);
        }
    }

    /// <summary>
    /// A vocabulary name always holds the vocabulary's kind of value: the element type must match (a query may take
    /// one or several: RunId as string[] is fine, RunId as int is not). When the parameter binds by property name
    /// and the vocabulary type is an array, the parameter must be an array too: PowerShell would otherwise join
    /// an incoming Endpoint array into one space-separated string.
    /// </summary>
    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void Vocabulary_parameters_have_the_vocabulary_type(string className)
    {
        var s = Surface(className);
        foreach (var p in s.Parameters)
        {
            if (!Vocabulary.TryGetValue(p.Name, out var expected))
            {
                continue;
            }
            Assert.True(ElementType(p.Type) == ElementType(expected),
                $"{s.Name} -{p.Name} is {p.Type.Name}; DESIGN.md's vocabulary says {expected.Name}.");
            if (p.ByPropertyName && expected.IsArray)
            {
                Assert.True(p.Type.IsArray, $"{s.Name} -{p.Name} binds by property name and must be {expected.Name}, not {p.Type.Name}.");
            }
        }
    }

    private static Type ElementType(Type t) => t.IsArray ? t.GetElementType()! : t;

    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void Help_file_documents_exactly_the_parameters(string className)
    {
        var s = Surface(className);
        var path = RepoRoot.Combine("docs", "en-US", s.Name + ".md");
        Assert.True(File.Exists(path), $"{s.Name} has no help file {path}.");
        var help = MarkdownHelpParser.ParseFile(path);

        Assert.Equal(s.Name, help.Name);
        Assert.Equal("Rotation.dll-Help.xml", help.ExternalHelpFile);
        Assert.Equal("Rotation", help.ModuleName);
        foreach (var section in new[] { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES" })
        {
            Assert.True(help.Sections.Contains(section, StringComparer.Ordinal), $"{s.Name}.md has no '## {section}' section.");
        }
        Assert.False(string.IsNullOrWhiteSpace(help.Synopsis), $"{s.Name}.md: empty SYNOPSIS.");
        Assert.False(string.IsNullOrWhiteSpace(help.Description), $"{s.Name}.md: empty DESCRIPTION.");
        Assert.True(help.Examples.Count >= 2, $"{s.Name}.md has {help.Examples.Count} examples; at least two are required.");
        foreach (var e in help.Examples)
        {
            Assert.True(ExampleTitle().IsMatch(e.Title), $"{s.Name}.md: example heading '{e.Title}' is not 'Example N: ...'.");
            Assert.False(string.IsNullOrWhiteSpace(e.Code), $"{s.Name}.md: '{e.Title}' has no code block.");
            Assert.False(string.IsNullOrWhiteSpace(e.Remarks), $"{s.Name}.md: '{e.Title}' has no explanation.");
            Assert.Contains(s.Name, e.Code, StringComparison.OrdinalIgnoreCase);
        }

        var expected = s.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (s.SupportsShouldProcess)
        {
            expected.UnionWith(["WhatIf", "Confirm"]);
        }
        var documented = help.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.True(expected.SetEquals(documented),
            $"{s.Name}.md: undocumented parameters [{string.Join(", ", expected.Except(documented))}]; documented but absent [{string.Join(", ", documented.Except(expected))}].");
        Assert.True(help.HasCommonParameters, $"{s.Name}.md: no '### CommonParameters' entry.");

        foreach (var p in s.Parameters)
        {
            var doc = help.Parameters.Single(d => d.Name.Equals(p.Name, StringComparison.OrdinalIgnoreCase));
            Assert.False(string.IsNullOrWhiteSpace(doc.Description), $"{s.Name}.md: -{p.Name} has no description.");
            Assert.True(doc.Type == p.Type.Name || doc.Type == p.Type.FullName,
                $"{s.Name}.md: -{p.Name} is documented as {doc.Type} but is {p.Type.Name}.");
            Assert.True(doc.RequiredAnywhere == p.Mandatory, $"{s.Name}.md: -{p.Name} Required is {doc.RequiredAnywhere}, the class says {p.Mandatory}.");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletClasses))]
    public void Pester_file_exists(string className)
    {
        var s = Surface(className);
        var path = RepoRoot.Combine("tests", "Pester", s.Name + ".Tests.ps1");
        Assert.True(File.Exists(path), $"{s.Name} has no Pester file {path}.");
        var text = File.ReadAllText(path);
        Assert.Contains("TestHelpers.ps1", text, StringComparison.Ordinal);
        Assert.Contains(s.Name, text, StringComparison.Ordinal);
    }

    /// <summary>The manifest (Rotation.psd1 at the root, written by the lead) exports exactly the cmdlets that exist. Absent: fail.</summary>
    [Fact]
    public void Manifest_exports_exactly_the_cmdlets_that_exist()
    {
        var path = RepoRoot.Combine("Rotation.psd1");
        Assert.True(File.Exists(path), $"The module manifest {path} does not exist.");
        var exported = ManifestCmdlets(File.ReadAllText(path));
        var existing = CmdletSurface.All().Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.True(existing.SetEquals(exported),
            $"CmdletsToExport lacks [{string.Join(", ", existing.Except(exported))}] and exports missing [{string.Join(", ", exported.Except(existing))}].");
    }

    [Fact]
    public void Manifest_parser_reads_list_and_array_forms()
    {
        Assert.Equal(["A-B", "C-D"], ManifestCmdlets("@{\n CmdletsToExport = @(\n  'A-B', # one\n  \"C-D\"\n )\n FunctionsToExport = @('x')\n}").Order());
        Assert.Equal(["A-B", "C-D"], ManifestCmdlets("@{ CmdletsToExport = 'A-B', 'C-D'\n AliasesToExport = @() }").Order());
    }

    internal static HashSet<string> ManifestCmdlets(string psd1)
    {
        var withoutComments = string.Join("\n", psd1.Split('\n').Select(l => CommentPattern().Replace(l, string.Empty)));
        var m = CmdletsToExportPattern().Match(withoutComments);
        Assert.True(m.Success, "The manifest has no CmdletsToExport entry.");
        var list = m.Groups["array"].Success ? m.Groups["array"].Value : m.Groups["line"].Value;
        return QuotedPattern().Matches(list).Select(q => q.Groups[1].Success ? q.Groups[1].Value : q.Groups[2].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private static Type? ResolveTypeName(string? name) =>
        name is null ? null : Type.GetType(name) ?? typeof(Rotation.Core.Secrets.RotationSecret).Assembly.GetType(name)
            ?? CmdletSurface.ModuleAssembly.GetType(name);

    [GeneratedRegex(@"^Example \d+: \S")]
    private static partial Regex ExampleTitle();

    [GeneratedRegex(@"#(?=(?:[^'""]*['""][^'""]*['""])*[^'""]*$).*")]
    private static partial Regex CommentPattern();

    [GeneratedRegex(@"CmdletsToExport\s*=\s*(?:@\((?<array>[^)]*)\)|(?<line>[^\n]*))", RegexOptions.IgnoreCase)]
    private static partial Regex CmdletsToExportPattern();

    [GeneratedRegex(@"'([^']*)'|""([^""]*)""")]
    private static partial Regex QuotedPattern();
}

using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using Rotation.Commands;
using Rotation.Core.Audit;
using Rotation.Core.Runs;
using Rotation.Infrastructure;

namespace Rotation.Core.Tests.Runs;

/// <summary>
/// The run and audit cmdlets cannot be invoked here (no PowerShell runtime), so their surface is checked by reflection.
/// The PowerShellStandard stub's attributes have no bodies, so their arguments are read from the metadata.
/// </summary>
public sealed class RunCmdletSurfaceTests
{
    public static TheoryData<Type, string, Type, bool> Cmdlets() => new()
    {
        { typeof(GetRotationRunCommand), "Get-RotationRun", typeof(RotationRun), false },
        { typeof(ResumeRotationCommand), "Resume-Rotation", typeof(RotationRun), true },
        { typeof(UndoRotationCommand), "Undo-Rotation", typeof(RotationRun), true },
        { typeof(GetRotationAuditLogCommand), "Get-RotationAuditLog", typeof(RotationAuditRecord), false },
        { typeof(ExportRotationAuditLogCommand), "Export-RotationAuditLog", typeof(AuditExportResult), true },
    };

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_has_an_approved_verb_an_output_type_and_ShouldProcess_when_it_changes_state(Type type, string name, Type output, bool changesState)
    {
        var cmdlet = Attribute<CmdletAttribute>(type);
        var approved = new[] { typeof(VerbsCommon), typeof(VerbsLifecycle), typeof(VerbsData) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static)).Select(f => (string?)f.GetRawConstantValue());
        var verb = (string)cmdlet.ConstructorArguments[0].Value!;

        Assert.Equal(name, $"{verb}-{cmdlet.ConstructorArguments[1].Value}");
        Assert.Contains(verb, approved);
        Assert.True(type.IsSealed && type.IsSubclassOf(typeof(RotationCmdlet)));
        var outputTypes = (IEnumerable<CustomAttributeTypedArgument>)Attribute<OutputTypeAttribute>(type).ConstructorArguments[0].Value!;
        Assert.Contains(output, outputTypes.Select(a => (Type)a.Value!));
        Assert.Equal(changesState, Named(cmdlet, nameof(CmdletAttribute.SupportsShouldProcess)) is true);
    }

    [Fact]
    public void Undo_asks_for_confirmation_by_default()
    {
        Assert.Equal((int)ConfirmImpact.High, Named(Attribute<CmdletAttribute>(typeof(UndoRotationCommand)), nameof(CmdletAttribute.ConfirmImpact)));
    }

    [Theory]
    [InlineData(typeof(ResumeRotationCommand))]
    [InlineData(typeof(UndoRotationCommand))]
    public void Resume_and_undo_bind_RunId_by_property_name_and_take_a_transformable_credential(Type type)
    {
        var runId = Parameter(type, "RunId");
        Assert.Equal((true, true), (Named(runId, "Mandatory"), Named(runId, "ValueFromPipelineByPropertyName")));
        var credential = type.GetProperty("Credential")!;
        Assert.Equal(typeof(PSCredential), credential.PropertyType);
        Assert.NotNull(credential.GetCustomAttribute<CredentialTransformationAttribute>());
    }

    [Theory]
    [InlineData(typeof(GetRotationRunCommand))]
    [InlineData(typeof(GetRotationAuditLogCommand))]
    public void Readers_bind_RunId_by_property_name(Type type) =>
        Assert.Equal(true, Named(Parameter(type, "RunId"), "ValueFromPipelineByPropertyName"));

    [Fact]
    public void The_format_file_has_a_table_view_per_output_type_and_no_value_column()
    {
        var doc = XDocument.Load(Path.Combine(RepoRoot(), "src/Rotation/Formats/Runs.format.ps1xml"));
        var views = doc.Descendants("View").ToDictionary(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value,
            v => v.Descendants("TableColumnItem").Select(c => c.Element("PropertyName")!.Value).ToList());

        Assert.Equal(["RunId", "Kind", "Target", "Status", "NextStep", "UpdatedAt"], views[typeof(RotationRun).FullName!]);
        Assert.Contains("Event", views[typeof(RotationAuditRecord).FullName!]);
        Assert.Contains(typeof(AuditExportResult).FullName!, views.Keys);
        Assert.All(views.Values.SelectMany(c => c), c => Assert.DoesNotContain("Value", c, StringComparison.Ordinal));
        Assert.All(views.SelectMany(v => v.Value.Select(c => (v.Key, c))), vc => Assert.NotNull(Type.GetType(vc.Key + ", Rotation.Core")!.GetProperty(vc.c)));
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_has_help_with_every_section_and_parameter(Type type, string name, Type output, bool changesState)
    {
        var help = File.ReadAllText(Path.Combine(RepoRoot(), "docs/en-US", name + ".md"));

        Assert.Contains("external help file: Rotation.dll-Help.xml", help, StringComparison.Ordinal);
        Assert.Contains("Module Name: Rotation", help, StringComparison.Ordinal);
        foreach (var section in new[] { $"# {name}", "## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "### Example 2", "```powershell", "## PARAMETERS", "## INPUTS", "## OUTPUTS", "## NOTES" })
        {
            Assert.Contains(section, help, StringComparison.Ordinal);
        }
        var parameters = type.GetProperties().Where(p => p.GetCustomAttribute<ParameterAttribute>() is not null).Select(p => p.Name);
        Assert.All(parameters.Concat(changesState ? ["WhatIf", "Confirm"] : []), p => Assert.Contains($"### -{p}\n", help, StringComparison.Ordinal));
        Assert.Contains(output.FullName!, help, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_has_a_pester_test_of_its_parameter_list(Type type, string name, Type output, bool changesState)
    {
        var tests = File.ReadAllText(Path.Combine(RepoRoot(), "tests/Pester", name + ".Tests.ps1"));
        var parameters = type.GetProperties().Where(p => p.GetCustomAttribute<ParameterAttribute>() is not null).Select(p => p.Name);
        var listed = System.Text.RegularExpressions.Regex.Match(tests, $@"Get-RotationDeclaredParameter -CommandName {name} \| Should -Be @\((.+)\)").Groups[1].Value
            .Split(',').Select(p => p.Trim().Trim('\''));

        Assert.Equal(parameters.Order(StringComparer.Ordinal), listed);
        Assert.Contains($"Describe '{name}'", tests, StringComparison.Ordinal);
        Assert.Equal(changesState, tests.Contains("-WhatIf", StringComparison.Ordinal));
        Assert.NotNull(output);
    }

    private static CustomAttributeData Parameter(Type type, string name) =>
        type.GetProperty(name)!.GetCustomAttributesData().Single(a => a.AttributeType == typeof(ParameterAttribute));

    private static CustomAttributeData Attribute<T>(Type type) => type.GetCustomAttributesData().Single(a => a.AttributeType == typeof(T));

    private static object? Named(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.MemberName == name).Select(a => a.TypedValue.Value).FirstOrDefault();

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Module.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Module.sln not found above " + AppContext.BaseDirectory);
    }
}

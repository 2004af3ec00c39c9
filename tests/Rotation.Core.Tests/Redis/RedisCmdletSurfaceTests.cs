using System.Management.Automation;
using System.Reflection;
using Rotation.Commands;
using Rotation.Core.Redis;
using Rotation.Infrastructure;

namespace Rotation.Core.Tests.Redis;

/// <summary>
/// The Redis cmdlets' surface, checked by reflection (no PowerShell runtime here). The attributes are read as
/// metadata (CustomAttributeData): the PowerShellStandard stub's attribute properties do not keep their values.
/// </summary>
public sealed class RedisCmdletSurfaceTests
{
    public static readonly TheoryData<Type> Cmdlets = new()
    {
        typeof(InvokeRedisAclRotationCommand), typeof(TestRedisCredentialCommand), typeof(GetRedisUserClientCommand), typeof(RemoveRetiredRedisCredentialCommand),
    };

    private static CustomAttributeData? Attr<T>(MemberInfo m) => m.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType == typeof(T));

    private static object? Named(CustomAttributeData a, string name) => a.NamedArguments.FirstOrDefault(n => n.MemberName == name).TypedValue.Value;

    private static bool Flag(CustomAttributeData a, string name) => Named(a, name) is true;

    private static string NameOf(Type t)
    {
        var a = Attr<CmdletAttribute>(t)!;
        return $"{a.ConstructorArguments[0].Value}-{a.ConstructorArguments[1].Value}";
    }

    private static IEnumerable<PropertyInfo> Parameters(Type t) => t.GetProperties().Where(p => Attr<ParameterAttribute>(p) is not null);

    private static CustomAttributeData Param(Type t, string name) => Attr<ParameterAttribute>(t.GetProperty(name)!)!;

    private static bool SupportsShouldProcess(Type t) => Flag(Attr<CmdletAttribute>(t)!, "SupportsShouldProcess");

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_is_sealed_named_for_its_verb_and_noun_and_declares_a_core_output_type(Type t)
    {
        Assert.True(t.IsSealed && t.IsPublic);
        Assert.Equal(NameOf(t).Replace("-", "", StringComparison.Ordinal) + "Command", t.Name);
        var types = Attr<OutputTypeAttribute>(t)!.ConstructorArguments.SelectMany(a =>
            a.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (Type)m.Value!) : [(Type)a.Value!]).ToList();
        Assert.NotEmpty(types);
        Assert.All(types, o => Assert.True(o.Namespace!.StartsWith("Rotation.Core", StringComparison.Ordinal) || o == typeof(bool), o.FullName));
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Every_credential_parameter_is_a_transformed_PSCredential(Type t)
    {
        var p = t.GetProperty("Credential")!;
        Assert.Equal(typeof(PSCredential), p.PropertyType);
        Assert.NotNull(Attr<CredentialTransformationAttribute>(p));
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Every_parameter_has_help_in_the_platyps_document(Type t)
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "en-US", NameOf(t) + ".md"));
        Assert.StartsWith("---\nexternal help file: Rotation.dll-Help.xml\nModule Name: Rotation", doc, StringComparison.Ordinal);
        foreach (var section in new[] { "## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "### Example 1:", "### Example 2:", "## PARAMETERS", "## INPUTS", "## OUTPUTS", "## NOTES" })
        {
            Assert.Contains(section, doc, StringComparison.Ordinal);
        }
        var names = Parameters(t).Select(p => p.Name).ToList();
        if (SupportsShouldProcess(t))
        {
            names.AddRange(["WhatIf", "Confirm"]);
        }
        var documented = doc.Split('\n').Where(l => l.StartsWith("### -", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void State_changing_cmdlets_support_ShouldProcess_and_retiring_is_high_impact()
    {
        Assert.True(SupportsShouldProcess(typeof(InvokeRedisAclRotationCommand)));
        Assert.True(SupportsShouldProcess(typeof(RemoveRetiredRedisCredentialCommand)));
        Assert.Equal((int)ConfirmImpact.High, Named(Attr<CmdletAttribute>(typeof(RemoveRetiredRedisCredentialCommand))!, "ConfirmImpact"));
        Assert.False(SupportsShouldProcess(typeof(TestRedisCredentialCommand)));
        Assert.False(SupportsShouldProcess(typeof(GetRedisUserClientCommand)));
    }

    /// <summary>
    /// The seed pipeline: '$x | Set-RotationSecret', '$x | Test-RedisCredential', '$x | Remove-RetiredRedisCredential
    /// -Credential $admin'. The rotation's properties must bind where meant, and nowhere they must not.
    /// </summary>
    [Fact]
    public void A_rotation_object_binds_by_property_name_where_it_should()
    {
        var props = typeof(RedisAclRotation).GetProperties().Select(p => p.Name).ToHashSet();
        // Test-RedisCredential takes the new login and the nodes from the rotation.
        Assert.True(Flag(Param(typeof(TestRedisCredentialCommand), "Credential"), "ValueFromPipelineByPropertyName"));
        Assert.True(Flag(Param(typeof(TestRedisCredentialCommand), "Endpoint"), "ValueFromPipelineByPropertyName"));
        Assert.Contains("Credential", props);
        Assert.Contains("Endpoint", props);
        // Remove-RetiredRedisCredential takes the whole object; its -Credential is the admin and must never bind from it.
        Assert.True(Flag(Param(typeof(RemoveRetiredRedisCredentialCommand), "InputObject"), "ValueFromPipeline"));
        Assert.False(Flag(Param(typeof(RemoveRetiredRedisCredentialCommand), "Credential"), "ValueFromPipelineByPropertyName"));
        Assert.False(Flag(Param(typeof(InvokeRedisAclRotationCommand), "Credential"), "ValueFromPipelineByPropertyName"));
        Assert.False(Flag(Param(typeof(GetRedisUserClientCommand), "Credential"), "ValueFromPipelineByPropertyName"));
        Assert.Contains("RunId", props);
        Assert.Contains("User", props);
        Assert.Equal(typeof(string[]), typeof(RedisAclRotation).GetProperty("Endpoint")!.PropertyType);
    }

    [Fact]
    public void Each_output_type_has_a_table_view_without_a_value_column()
    {
        var xml = System.Xml.Linq.XDocument.Load(Path.Combine(RepoRoot(), "src", "Rotation", "Formats", "Redis.format.ps1xml"));
        var views = xml.Descendants("View").ToList();
        foreach (var type in new[] { typeof(RedisAclRotation), typeof(RedisCredentialTestResult), typeof(RedisClientInfo), typeof(RedisRetirement) })
        {
            var view = Assert.Single(views, v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == type.FullName);
            var columns = view.Descendants("PropertyName").Select(p => p.Value).ToList();
            Assert.DoesNotContain("Credential", columns);
            Assert.DoesNotContain("Password", columns);
            Assert.DoesNotContain("Value", columns);
            Assert.All(columns, c => Assert.NotNull(type.GetProperty(c)));
        }
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Module.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Module.sln not found above the test binaries.");
    }
}

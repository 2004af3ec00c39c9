using System.Management.Automation;
using System.Reflection;
using Rotation.Commands;
using Rotation.Core.Secrets;
using Rotation.Infrastructure;

namespace Rotation.Core.Tests.Stores;

/// <summary>
/// The secret cmdlets' surface, checked by reflection (cmdlets cannot be invoked without a PowerShell host). Attributes
/// are read as metadata (CustomAttributeData): the PowerShellStandard stub's attribute getters return defaults.
/// </summary>
public sealed class SecretCmdletSurfaceTests
{
    public static TheoryData<Type, string, bool, ConfirmImpact> Cmdlets => new()
    {
        { typeof(SetRotationSecretCommand), "Set-RotationSecret", true, ConfirmImpact.Medium },
        { typeof(GetRotationSecretCommand), "Get-RotationSecret", false, ConfirmImpact.Medium },
        { typeof(CompleteRotationSecretCommand), "Complete-RotationSecret", true, ConfirmImpact.Medium },
        { typeof(UndoRotationSecretCommand), "Undo-RotationSecret", true, ConfirmImpact.High },
    };

    private static readonly HashSet<string> ApprovedVerbs = typeof(VerbsCommon).Assembly.GetTypes()
        .Where(t => t.Name.StartsWith("Verbs", StringComparison.Ordinal))
        .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
        .Select(f => (string)f.GetValue(null)!)
        .ToHashSet(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_is_declared_as_the_house_style_says(Type type, string name, bool changesState, ConfirmImpact impact)
    {
        Assert.True(type.IsPublic && type.IsSealed);
        Assert.True(typeof(RotationCmdlet).IsAssignableFrom(type));
        var cmdlet = Attr<CmdletAttribute>(type);
        var verb = (string)cmdlet.ConstructorArguments[0].Value!;
        var noun = (string)cmdlet.ConstructorArguments[1].Value!;
        Assert.Equal(name, $"{verb}-{noun}");
        Assert.Contains(verb, ApprovedVerbs);
        Assert.Equal(type.Name, $"{verb}{noun}Command");
        Assert.Contains(typeof(RotationSecret), OutputTypes(type));
        Assert.Equal(changesState, Named(cmdlet, "SupportsShouldProcess") is true);
        if (changesState)
        {
            Assert.Equal(impact, (ConfirmImpact)(int)Named(cmdlet, "ConfirmImpact")!);
        }
        var uri = Parameter(type, "Uri");
        Assert.True(uri.Mandatory);
        Assert.True(uri.ValueFromPipelineByPropertyName);
        Assert.False(Parameter(type, "Endpoint").ValueFromPipelineByPropertyName);
    }

    [Fact]
    public void Set_binds_a_generated_secret_a_rotation_and_a_field_map_by_property_name()
    {
        var t = typeof(SetRotationSecretCommand);
        Assert.Equal(
            ["Credential", "Database", "Endpoint", "Fields", "PassThru", "Port", "RunId", "Server", "Shape", "Stage", "Uri", "Value"],
            Parameters(t).Select(p => p.Name).Order());
        foreach (var byName in new[] { "Uri", "Value", "Credential", "Fields", "Server", "Port", "Database", "RunId" })
        {
            Assert.True(Parameter(t, byName).ValueFromPipelineByPropertyName, byName);
        }
        Assert.True(Parameter(t, "Fields").ValueFromPipeline);
        Assert.Contains("InputObject", Strings(Attr<AliasAttribute>(t.GetProperty("Fields")!)));
        Assert.False(Parameter(t, "Stage").ValueFromPipelineByPropertyName);
        Assert.NotNull(t.GetProperty("Credential")!.GetCustomAttribute<CredentialTransformationAttribute>(inherit: false));
        Assert.Equal(typeof(PSCredential), t.GetProperty("Credential")!.PropertyType);
        Assert.Equal(typeof(System.Security.SecureString), t.GetProperty("Value")!.PropertyType);
        Assert.Equal(["Current", "Pending"], Strings(Attr<ValidateSetAttribute>(t.GetProperty("Stage")!)));
        // New-RotationSecret's output carries the names Set binds.
        Assert.NotNull(typeof(RotationSecret).GetProperty("Value"));
        Assert.Equal(typeof(System.Security.SecureString), typeof(RotationSecret).GetProperty("Value")!.PropertyType);
    }

    [Fact]
    public void Get_and_Complete_bind_what_a_RotationSecret_carries()
    {
        Assert.True(Parameter(typeof(GetRotationSecretCommand), "Stage").ValueFromPipelineByPropertyName);
        Assert.NotNull(typeof(GetRotationSecretCommand).GetProperty("AsPlainText"));
        Assert.Contains(typeof(string), OutputTypes(typeof(GetRotationSecretCommand)));
        Assert.True(Parameter(typeof(CompleteRotationSecretCommand), "VersionId").ValueFromPipelineByPropertyName);
        foreach (var name in new[] { "Uri", "Stage", "VersionId" })
        {
            Assert.NotNull(typeof(RotationSecret).GetProperty(name));
        }
    }

    private static IEnumerable<PropertyInfo> Parameters(Type t) =>
        t.GetProperties().Where(p => p.GetCustomAttributesData().Any(a => a.AttributeType == typeof(ParameterAttribute)));

    private static ParameterFacts Parameter(Type t, string name)
    {
        var a = Attr<ParameterAttribute>(t.GetProperty(name) ?? throw new Xunit.Sdk.XunitException($"{t.Name} has no -{name}"));
        return new(Named(a, "Mandatory") is true, Named(a, "ValueFromPipeline") is true, Named(a, "ValueFromPipelineByPropertyName") is true);
    }

    private static CustomAttributeData Attr<T>(MemberInfo member) => member.GetCustomAttributesData().Single(a => a.AttributeType == typeof(T));

    private static object? Named(CustomAttributeData a, string name) => a.NamedArguments.FirstOrDefault(n => n.MemberName == name).TypedValue.Value;

    private static string[] Strings(CustomAttributeData a) =>
        [.. ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (string)v.Value!)];

    private static IEnumerable<Type> OutputTypes(Type t) => t.GetCustomAttributesData().Where(a => a.AttributeType == typeof(OutputTypeAttribute))
        .SelectMany(a => (IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (Type)v.Value!);

    private sealed record ParameterFacts(bool Mandatory, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);
}

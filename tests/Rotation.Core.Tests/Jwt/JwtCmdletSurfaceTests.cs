using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Core.Tests.Jwt;

/// <summary>The cmdlets cannot run here (no PowerShell runtime): their surface is checked by reflection.</summary>
public sealed class JwtCmdletSurfaceTests
{
    private static readonly string[] Names =
    [
        "New-JwtSigningKey", "Add-JwtSigningKey", "Switch-JwtSigningKey", "Remove-RetiredJwtKey", "Get-JwtKeyRing", "Export-Jwks",
        "Undo-JwtSigningKey", "Invoke-JwtKeyRevocation", "ConvertTo-JwtKeyLayout", "Measure-JwtKeyUsage", "Test-JwtToken",
    ];

    private static readonly string[] StateChanging = ["Add-JwtSigningKey", "Switch-JwtSigningKey", "Remove-RetiredJwtKey", "Undo-JwtSigningKey", "Invoke-JwtKeyRevocation", "ConvertTo-JwtKeyLayout"];

    // Attribute data, not instances: the PowerShellStandard stub's attribute members are not meant to run here.
    private static Dictionary<string, Type> Cmdlets() => typeof(RotationCmdlet).Assembly.GetTypes()
        .Select(t => (Type: t, Attr: CmdletData(t)))
        .Where(x => x.Attr is not null && Names.Contains(CmdletName(x.Attr)))
        .ToDictionary(x => CmdletName(x.Attr!), x => x.Type);

    private static CustomAttributeData? CmdletData(Type t) => t.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType == typeof(CmdletAttribute));

    private static string CmdletName(CustomAttributeData a) => $"{a.ConstructorArguments[0].Value}-{a.ConstructorArguments[1].Value}";

    private static object? Named(Type t, string name) => CmdletData(t)!.NamedArguments.FirstOrDefault(n => n.MemberName == name).TypedValue.Value;

    [Fact]
    public void Every_jwt_cmdlet_exists_is_thin_and_declares_a_core_output_type()
    {
        var cmdlets = Cmdlets();
        Assert.Equal(Names.Order(), cmdlets.Keys.Order());
        foreach (var (name, type) in cmdlets)
        {
            Assert.True(type.IsSealed && type.IsPublic && type.IsSubclassOf(typeof(RotationCmdlet)), name);
            Assert.Equal(name.Replace("-", string.Empty, StringComparison.Ordinal) + "Command", type.Name);
            var output = type.GetCustomAttributesData().Where(a => a.AttributeType == typeof(OutputTypeAttribute))
                .SelectMany(a => a.ConstructorArguments.SelectMany(c => c.Value as IEnumerable<CustomAttributeTypedArgument> ?? [c]))
                .Select(c => (Type)c.Value!).ToList();
            Assert.NotEmpty(output);
            Assert.All(output, t => Assert.True(t == typeof(bool) || t.Assembly == typeof(JwtKeyRing).Assembly, $"{name}: {t}"));
            Assert.True(name == "New-JwtSigningKey" || Parameter(type, "Uri") is not null, $"{name} has no -Uri");
        }
    }

    [Fact]
    public void State_changing_cmdlets_support_should_process_and_irreversible_ones_are_high_impact()
    {
        foreach (var (name, type) in Cmdlets())
        {
            Assert.Equal(StateChanging.Contains(name), Named(type, "SupportsShouldProcess") is true);
        }
        Assert.Equal(ConfirmImpact.High, (ConfirmImpact)(int)Named(Cmdlets()["Remove-RetiredJwtKey"], "ConfirmImpact")!);
        Assert.Equal(ConfirmImpact.High, (ConfirmImpact)(int)Named(Cmdlets()["Invoke-JwtKeyRevocation"], "ConfirmImpact")!);
        Assert.NotNull(Parameter(Cmdlets()["Remove-RetiredJwtKey"], "Force"));
        Assert.NotNull(Parameter(Cmdlets()["Remove-RetiredJwtKey"], "PassThru"));
    }

    [Fact]
    public void Pipeline_names_bind_as_the_design_says()
    {
        var c = Cmdlets();
        Assert.True(Attr(c["Invoke-JwtKeyRevocation"], "Kid").ValueFromPipelineByPropertyName);
        Assert.True(Attr(c["Remove-RetiredJwtKey"], "Kid").ValueFromPipelineByPropertyName);
        Assert.True(Attr(c["Switch-JwtSigningKey"], "Uri").ValueFromPipelineByPropertyName);
        Assert.True(Attr(c["Add-JwtSigningKey"], "Key").ValueFromPipeline);
        // A key read from ring A must never bind ring A as the destination of an add.
        Assert.False(Attr(c["Add-JwtSigningKey"], "Uri").ValueFromPipelineByPropertyName);
        Assert.Equal(typeof(System.Security.SecureString), Parameter(c["New-JwtSigningKey"], "Secret")!.PropertyType);
        Assert.True(Attr(c["Test-JwtToken"], "Token").ValueFromPipeline);
        Assert.NotNull(Parameter(c["Test-JwtToken"], "Detailed"));
    }

    [Fact]
    public void The_layout_binds_Fields_to_set_rotation_secret_and_never_its_ring_as_Uri()
    {
        var fields = typeof(JwtKeyLayout).GetProperty("Fields")!;
        // SecureString values: the layout never shows a secret, even to $layout.Fields or Format-List *.
        Assert.Equal(typeof(IDictionary<string, System.Security.SecureString>), fields.PropertyType);
        Assert.Null(typeof(JwtKeyLayout).GetProperty("Uri"));
        Assert.Null(typeof(JwtKeyLayout).GetProperty("Value"));
    }

    [Fact]
    public void Format_views_cover_every_output_type_and_show_no_value()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Formats", "Jwt.format.ps1xml");
        var doc = XDocument.Load(path);
        var selected = doc.Descendants("TypeName").Select(e => e.Value).ToHashSet();
        foreach (var t in new[] { typeof(JwtKey), typeof(JwtKeyRing), typeof(JwtKeyLayout), typeof(JwksDocument), typeof(JwtKeyRevocation), typeof(JwtTokenTestResult), typeof(JwtKeyUsageReport) })
        {
            Assert.Contains(t.FullName!, selected);
        }
        var shown = doc.Descendants("PropertyName").Select(e => e.Value).Concat(doc.Descendants("ScriptBlock").Select(e => e.Value)).ToList();
        Assert.DoesNotContain(shown, s => s is "Fields" or "Value" or "Material" or "Secret" or "Json" or "PublicJwk" || s.Contains("$_.Fields", StringComparison.Ordinal));
    }

    private static PropertyInfo? Parameter(Type t, string name) =>
        t.GetProperty(name) is { } p && p.GetCustomAttributesData().Any(a => a.AttributeType == typeof(ParameterAttribute)) ? p : null;

    private static ParameterFlags Attr(Type t, string name)
    {
        var data = Parameter(t, name)!.GetCustomAttributesData().Where(a => a.AttributeType == typeof(ParameterAttribute)).ToList();
        bool Any(string flag) => data.Any(d => d.NamedArguments.Any(n => n.MemberName == flag && n.TypedValue.Value is true));
        return new ParameterFlags(Any("ValueFromPipeline"), Any("ValueFromPipelineByPropertyName"));
    }

    private sealed record ParameterFlags(bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);
}

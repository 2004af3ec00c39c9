using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using Rotation.Commands;
using Rotation.Core.Kubernetes;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>The Kube cmdlets' public surface, checked by reflection on attribute metadata (the SMA assembly here is a
/// reference stub whose attribute instances carry no values, so constructor and named arguments are read instead).</summary>
public sealed class KubeCmdletSurfaceTests
{
    private static CustomAttributeData Attr<T>(MemberInfo m) => m.GetCustomAttributesData().Single(a => a.AttributeType == typeof(T));

    private static object? Named(CustomAttributeData a, string name) => a.NamedArguments.FirstOrDefault(n => n.MemberName == name).TypedValue.Value;

    private static IEnumerable<Type> OutputTypes(Type cmdlet) =>
        Attr<OutputTypeAttribute>(cmdlet).ConstructorArguments.SelectMany(c => c.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [c.Value]).OfType<Type>();

    private sealed record Param(string Name, string? Set, bool ByPropertyName, bool Mandatory);

    private static ILookup<string, Param> Parameters(Type type) =>
        type.GetProperties().SelectMany(p => p.GetCustomAttributesData().Where(a => a.AttributeType == typeof(ParameterAttribute))
            .Select(a => new Param(p.Name, Named(a, "ParameterSetName") as string, Named(a, "ValueFromPipelineByPropertyName") is true, Named(a, "Mandatory") is true)))
            .ToLookup(p => p.Name);

    public static TheoryData<Type, string, bool> Cmdlets => new()
    {
        { typeof(GetKubeSecretCommand), "Get-KubeSecret", false },
        { typeof(SetKubeSecretCommand), "Set-KubeSecret", true },
        { typeof(RestartKubeWorkloadCommand), "Restart-KubeWorkload", true },
        { typeof(WaitKubeRolloutCommand), "Wait-KubeRollout", false },
        { typeof(SyncExternalSecretCommand), "Sync-ExternalSecret", true },
        { typeof(GetKubeSecretConsumerCommand), "Get-KubeSecretConsumer", false },
    };

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Each_cmdlet_is_sealed_named_and_changes_state_only_behind_ShouldProcess(Type type, string name, bool changesState)
    {
        var attr = Attr<CmdletAttribute>(type);
        Assert.Equal(name, $"{attr.ConstructorArguments[0].Value}-{attr.ConstructorArguments[1].Value}");
        Assert.True(type.IsSealed);
        Assert.Equal(changesState, Named(attr, "SupportsShouldProcess") is true);
        Assert.NotEmpty(OutputTypes(type));
    }

    [Theory]
    [InlineData(typeof(GetKubeSecretCommand), new[] { "Context", "Namespace", "Name", "Key", "AsPlainText" })]
    [InlineData(typeof(SetKubeSecretCommand), new[] { "Context", "Namespace", "Name", "Data", "StringData", "Type", "ResourceVersion", "Merge", "PassThru" })]
    [InlineData(typeof(RestartKubeWorkloadCommand), new[] { "Context", "Namespace", "Workload", "Selector", "All", "SecretName" })]
    [InlineData(typeof(WaitKubeRolloutCommand), new[] { "Context", "Namespace", "Workload", "Timeout" })]
    [InlineData(typeof(SyncExternalSecretCommand), new[] { "Context", "Namespace", "Name", "All", "Wait", "Timeout" })]
    [InlineData(typeof(GetKubeSecretConsumerCommand), new[] { "Context", "Namespace", "Name", "Stale" })]
    public void Parameter_lists_are_exactly_these(Type type, string[] expected) =>
        Assert.Equal(expected.Order(), Parameters(type).Select(g => g.Key).Order());

    [Theory]
    [InlineData(typeof(RestartKubeWorkloadCommand), typeof(KubeRollout), typeof(WaitKubeRolloutCommand))]
    [InlineData(typeof(GetKubeSecretConsumerCommand), typeof(KubeSecretConsumer), typeof(RestartKubeWorkloadCommand))]
    [InlineData(typeof(GetKubeSecretCommand), typeof(KubeSecret), typeof(SetKubeSecretCommand))]
    public void Output_objects_bind_to_the_next_cmdlet_by_property_name(Type producer, Type output, Type consumer)
    {
        Assert.Contains(output, OutputTypes(producer));
        var byName = Parameters(consumer).Where(g => g.Any(p => p.ByPropertyName)).Select(g => g.Key).ToList();
        Assert.Contains("Context", byName);
        Assert.Contains("Namespace", byName);
        var identity = consumer == typeof(SetKubeSecretCommand) ? "Name" : "Workload";
        Assert.Contains(identity, byName);
        Assert.NotNull(output.GetProperty(identity));
        Assert.NotNull(output.GetProperty("Context"));
        Assert.NotNull(output.GetProperty("Namespace"));
    }

    [Fact]
    public void Every_output_type_has_a_table_view_without_a_value_column()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Formats", "Kubernetes.format.ps1xml");
        var doc = XDocument.Load(path);
        var views = doc.Descendants("View").ToDictionary(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value);
        foreach (var type in new[] { typeof(KubeSecret), typeof(KubeRollout), typeof(KubeSecretConsumer), typeof(KubeExternalSecretSync), typeof(KubePodProblem) })
        {
            Assert.True(views.ContainsKey(type.FullName!), type.FullName);
            var text = views[type.FullName!].ToString();
            Assert.DoesNotContain("<PropertyName>Data</PropertyName>", text, StringComparison.Ordinal);
            Assert.DoesNotContain("PlainData", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Value", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_Wait_timeout_defaults_to_five_minutes_and_restart_sets_are_distinct()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), new WaitKubeRolloutCommand().Timeout);
        var sets = Parameters(typeof(RestartKubeWorkloadCommand)).SelectMany(g => g).Select(p => p.Set).OfType<string>().Distinct().Order();
        Assert.Equal(["Secret", "Selector", "Workload"], sets);
        Assert.All(Parameters(typeof(RestartKubeWorkloadCommand))["SecretName"], p => Assert.True(p.Mandatory));
    }

    [Fact]
    public void A_KubeSecret_never_prints_its_values()
    {
        var s = KubeOperations.ToKubeSecret("ctx", "ns", (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(
            """{"metadata":{"name":"db","resourceVersion":"5"},"data":{"password":"c3VwZXItc2VjcmV0LXZhbHVl"}}""")!, asPlainText: false);
        Infrastructure.LeakAssert.NoneOf(["super-secret-value"], [("ToString", s.ToString()), ("Uri", s.Uri)]);
        Assert.Null(s.PlainData);
        Assert.Equal(["password"], s.Keys);
    }
}

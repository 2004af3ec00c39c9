using System.Xml.Linq;

namespace Rotation.Core.Tests.Surface;

/// <summary>
/// Every core type a cmdlet declares as output has exactly one table view among src/Rotation/Formats, and no view
/// column shows a secret (Value, PrivateKey, Password or a SecureString property).
/// </summary>
public sealed class FormatViewTests
{
    private static readonly string[] SecretProperties = ["Value", "PrivateKey", "Password", "Secret", "PlainText"];

    private static List<(string File, string TypeName, XElement View)> Views() =>
        Directory.GetFiles(RepoRoot.Combine("src", "Rotation", "Formats"), "*.format.ps1xml")
            .SelectMany(f => XDocument.Load(f).Descendants("View").Select(v => (File: Path.GetFileName(f), View: v)))
            .SelectMany(x => x.View.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => (x.File, t.Value, x.View)))
            .ToList();

    public static TheoryData<string> CoreOutputTypes()
    {
        var data = new TheoryData<string>();
        foreach (var name in CmdletSurface.All().SelectMany(c => c.OutputTypes).OfType<Type>()
                     .Where(t => t.Assembly == typeof(Rotation.Core.Secrets.RotationSecret).Assembly)
                     .Select(t => t.FullName!).Distinct().Order(StringComparer.Ordinal))
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CoreOutputTypes))]
    public void Each_output_type_has_exactly_one_table_view(string typeName)
    {
        var views = Views().Where(v => v.TypeName == typeName && v.View.Element("TableControl") is not null).ToList();
        Assert.True(views.Count == 1,
            $"{typeName} has {views.Count} table views ({string.Join(", ", views.Select(v => v.File))}); the first loaded would silently win.");
    }

    [Fact]
    public void No_view_shows_a_secret()
    {
        var coreTypes = typeof(Rotation.Core.Secrets.RotationSecret).Assembly.GetTypes().ToDictionary(t => t.FullName!, t => t);
        foreach (var (file, typeName, view) in Views())
        {
            var secureProperties = coreTypes.TryGetValue(typeName, out var type)
                ? type.GetProperties().Where(p => p.PropertyType == typeof(System.Security.SecureString)).Select(p => p.Name)
                : [];
            var forbidden = SecretProperties.Concat(secureProperties).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var column in view.Descendants("PropertyName").Select(p => p.Value))
            {
                Assert.False(forbidden.Contains(column), $"{file}: the view of {typeName} shows {column}.");
            }
            foreach (var script in view.Descendants("ScriptBlock").Select(s => s.Value))
            {
                foreach (var name in forbidden)
                {
                    Assert.DoesNotContain("$_." + name, script, StringComparison.OrdinalIgnoreCase);
                }
            }
        }
    }
}

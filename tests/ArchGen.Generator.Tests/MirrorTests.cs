using System.Reflection;
using ArchGen.Generator.Model;
using ArchGen.Generator.Tests.Infrastructure;
using ArchGen.Generator.Validation;

namespace ArchGen.Generator.Tests;

/// <summary>
/// What the generator knows of the runtime's attributes, checked against the attributes themselves, and the one list
/// of diagnostics against the analyzer and the release file: the places that could drift apart (issue 25).
/// </summary>
public class MirrorTests
{
    static Type RuntimeType(string name) => typeof(ModelCatalog).Assembly.GetType("ArchGen." + name, throwOnError: true)!;

    public static TheoryData<string> FamilyNames => new(FamilyInfo.All.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void EveryModelAttributesDefaultsAreTheGeneratorsDefaults(string family)
    {
        var info = FamilyInfo.All.Single(f => f.Name == family);
        var attribute = Activator.CreateInstance(RuntimeType(info.Name + "Attribute"))!;
        var specProperties = typeof(ModelSpec).GetProperties().ToDictionary(p => p.Name);
        foreach (var property in attribute.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            object? runtime = property.GetValue(attribute);
            // The generator reads an enum argument as its integer value.
            string name = property.PropertyType.IsEnum ? property.Name + "Value" : property.Name;
            Assert.True(specProperties.TryGetValue(name, out var spec), $"[{info.Name}] has {property.Name}, which ModelSpec does not");
            object? generator = spec!.GetValue(info.Defaults);
            Assert.True(Equals(property.PropertyType.IsEnum ? Convert.ToInt32(runtime) : runtime, generator),
                $"[{info.Name}] {property.Name}: the attribute's default is {runtime}, the generator's {generator}");
        }
    }

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void EveryRowAttributesParametersAreTheOnesTheGeneratorReads(string family)
    {
        var info = FamilyInfo.All.Single(f => f.Name == family);
        var constructor = Assert.Single(RuntimeType(info.Row + "Attribute").GetConstructors());
        Assert.Equal(info.RowArguments, constructor.GetParameters().Select(p => p.Name!));
    }

    [Fact]
    public void TheAnalyzerDeclaresEveryDiagnosticAndTheReleaseFileListsThem()
    {
        var declared = Diagnostics.All.Select(d => d.Id).ToList();
        Assert.Equal(declared.Count, declared.Distinct().Count());
        Assert.Equal(declared, new ArchGenAnalyzer().SupportedDiagnostics.Select(d => d.Id));
        string releases = File.ReadAllText(Path.Combine(SourceTree.ProjectDirectory, "..", "..", "src", "Generator", "AnalyzerReleases.Unshipped.md"));
        var listed = releases.Split('\n').Where(l => l.StartsWith("ARCH", StringComparison.Ordinal)).Select(l => l.Split('|')[0].Trim()).ToList();
        Assert.Equal(declared, listed.Order(StringComparer.Ordinal));
        foreach (var d in Diagnostics.All)
            Assert.Contains($"{d.Id} | {d.Category} | {d.DefaultSeverity} | {d.Title}", releases);
    }
}

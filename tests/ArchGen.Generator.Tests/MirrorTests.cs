using System.Reflection;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
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

    public static TheoryData<string> FamilyNames => new(FamilyCatalog.Shipped.All.Select(f => f.Name));

    private static Family FamilyNamed(string name) => FamilyCatalog.Shipped.All.Single(f => f.Name == name);

    /// <summary>The named arguments every model attribute has: <see cref="ModelSpec"/>'s own fields.</summary>
    private static readonly string[] Shared = ["Classes", "InputSize", "InputChannels"];

    [Fact]
    public void TheShippedCatalogIsTheThreeFamilies()
    {
        Assert.Equal(["EfficientNet", "MobileNetV2", "MobileNetV3"], FamilyCatalog.Shipped.All.Select(f => f.Name));
    }

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void EveryModelAttributesDefaultsAreTheGeneratorsDefaults(string family)
    {
        var info = FamilyNamed(family);
        var attribute = Activator.CreateInstance(RuntimeType(info.Name + "Attribute"))!;
        var spec = ModelSpec.Defaults(info);
        var options = info.Defaults.GetType().GetProperties().ToDictionary(p => p.Name);
        var named = attribute.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        foreach (var property in named)
        {
            object? runtime = property.GetValue(attribute);
            object? generator = Shared.Contains(property.Name)
                ? typeof(ModelSpec).GetProperty(property.Name)!.GetValue(spec)
                : options.TryGetValue(property.Name, out var option) ? option.GetValue(info.Defaults)
                : throw new Xunit.Sdk.XunitException($"[{info.Name}] has {property.Name}, which neither ModelSpec nor {info.Defaults.GetType().Name} has");

            // The attribute's enums and the generator's are one source file compiled twice: compare their values.
            Assert.True(Equals(property.PropertyType.IsEnum ? Convert.ToInt32(runtime) : runtime, generator is Enum ? Convert.ToInt32(generator) : generator),
                $"[{info.Name}] {property.Name}: the attribute's default is {runtime}, the generator's {generator}");
        }

        Assert.Subset(named.Select(p => p.Name).ToHashSet(), options.Keys.Concat(Shared).ToHashSet());
    }

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void EveryOptionIsReadFromTheNamedArgumentOfItsName(string family)
    {
        var info = FamilyNamed(family);
        foreach (var option in info.Defaults.GetType().GetProperties())
        {
            object before = option.GetValue(info.Defaults)!;
            object written = before switch
            {
                Enum e => (object)(Convert.ToInt32(e) + 1), // as the compiler hands an enum argument over: its value
                int i => (object)(i + 1),
                bool b => (object)!b,
                double d => (object)(d + 0.25),
                _ => throw new Xunit.Sdk.XunitException($"{option.Name} has a type the test does not know"),
            };
            var reader = new ArgumentReader();
            var after = info.WithArgument(info.Defaults, option.Name, written, reader);
            Assert.False(reader.Error);
            object read = option.GetValue(after)!;
            Assert.Equal(written, read is Enum ? Convert.ToInt32(read) : read);
            Assert.Equal(info.Defaults, info.WithArgument(info.Defaults, "Classes", 7, reader)); // shared names are not the family's
        }
    }

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void EveryRowAttributesParametersAreTheOnesTheGeneratorReads(string family)
    {
        var info = FamilyNamed(family);
        var constructor = Assert.Single(RuntimeType(info.RowName + "Attribute").GetConstructors());
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

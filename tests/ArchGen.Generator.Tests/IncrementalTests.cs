using System.Reflection;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ArchGen.Generator.Tests;

/// <summary>The pipeline caches: same input → nothing recomputed that matters; unrelated edits → cached output; changed rows → regenerated.</summary>
public class IncrementalTests
{
    private static readonly string[] StepNames =
    [
        ArchGenGenerator.Steps.Parse,
        ArchGenGenerator.Steps.TorchSharp,
        ArchGenGenerator.Steps.Combine,
        ArchGenGenerator.Steps.Plan,
        ArchGenGenerator.Steps.Emit,
    ];

    private static readonly string Source = Harness.Model("Incremental", "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32", Harness.KuangliuRows);

    private static GeneratorRunResult RunTwice(Compilation first, Compilation second, out GeneratorDriver driver)
    {
        driver = Harness.CreateDriver().RunGenerators(first);
        driver = driver.RunGenerators(second);
        return driver.GetRunResult().Results.Single();
    }

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason);

    private static IEnumerable<IncrementalStepRunReason> OutputReasons(GeneratorRunResult result) =>
        result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason);

    [Fact]
    public void RerunOnTheSameCompilationIsFullyCached()
    {
        var compilation = Harness.Compile(Source);
        var result = RunTwice(compilation, compilation.Clone(), out _);
        foreach (var step in StepNames)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), step);
            Assert.All(Reasons(result, step), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }

        Assert.NotEmpty(OutputReasons(result));
        Assert.All(OutputReasons(result), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void UnrelatedEditKeepsTheOutputCached()
    {
        var compilation = Harness.Compile(Source);
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace Samples;\npublic class Unrelated\n{\n    public int Value { get; set; }\n}\n", Harness.ParseOptions, path: "Unrelated.cs"));
        var result = RunTwice(compilation, edited, out _);
        foreach (var step in StepNames)
        {
            Assert.All(Reasons(result, step), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }

        Assert.All(OutputReasons(result), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void EditInAnotherMethodOfTheSameFileKeepsTheEmitStepCached()
    {
        var compilation = Harness.Compile(Source);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
            Source.Replace("{\n}", "{\n    public int Extra => 1;\n}"))));
        var result = RunTwice(compilation, edited, out _);
        Assert.All(Reasons(result, ArchGenGenerator.Steps.Emit), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.All(OutputReasons(result), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void ChangedRowRegenerates()
    {
        var compilation = Harness.Compile(Source);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
            Source.Replace("t: 6, c: 320, n: 1, s: 1", "t: 6, c: 256, n: 1, s: 1"))));
        var result = RunTwice(compilation, edited, out var driver);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, ArchGenGenerator.Steps.Parse));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, ArchGenGenerator.Steps.Emit));
        Assert.Contains(IncrementalStepRunReason.Modified, OutputReasons(result));
        Assert.Contains("Head = new(256, 1280, kernelSize: 1", result.GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void TheSpecModelHoldsNoRoslynObjects()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(Compilation), typeof(SemanticModel), typeof(AttributeData) };
        var seen = new HashSet<Type>();
        void Walk(Type type)
        {
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum)
            {
                return;
            }

            Assert.DoesNotContain(forbidden, f => f.IsAssignableFrom(type));
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                Walk(field.FieldType.IsArray ? field.FieldType.GetElementType()! : field.FieldType);
            }

            foreach (var argument in type.GetGenericArguments())
            {
                Walk(argument);
            }
        }

        Walk(typeof(ModelSpec));
        Walk(typeof(ArchGen.Generator.Planning.LayerPlan));
        foreach (var step in typeof(ArchGen.Generator.Planning.Step).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ArchGen.Generator.Planning.Step))))
        {
            Walk(step);
        }

        Walk(typeof(GeneratedFile));

        // The spec's options and rows are each family's records; the families themselves hold only values too.
        foreach (var type in typeof(Row).Assembly.GetTypes().Where(t => !t.IsAbstract
            && (t.IsSubclassOf(typeof(Row)) || t.IsSubclassOf(typeof(FamilyOptions)) || t.IsSubclassOf(typeof(Family)))))
        {
            Walk(type);
        }

        Assert.Contains(typeof(BottleneckRow), seen);
        Assert.Contains(typeof(EfficientNetOptions), seen);
    }

    [Fact]
    public void EqualSpecsAreEqualAndHashAlike()
    {
        var mobileNetV2 = FamilyCatalog.Shipped.All.OfType<MobileNetV2Family>().Single();
        ModelSpec Make() => ModelSpec.Defaults(mobileNetV2) with
        {
            Namespace = "N",
            ClassName = "C",
            Classes = 10,
            InputSize = 32,
            Rows = new EquatableArray<Row>(new Row[] { new BottleneckRow(1, 16, 1, 1), new BottleneckRow(6, 24, 2, 2) }),
        };
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), Make() with { Rows = new EquatableArray<Row>(new Row[] { new BottleneckRow(1, 16, 1, 1) }) });
        Assert.NotEqual(Make(), Make() with { Options = ((MobileNetV2Options)mobileNetV2.Defaults) with { Width = 0.5 } });

        // The plan, computed once per model, compares by value too: equal specs give equal plans, so the emit step stays cached.
        var a = ArchGen.Generator.Validation.Validator.ValidPlan(Make());
        var b = ArchGen.Generator.Validation.Validator.ValidPlan(Make());
        Assert.NotNull(a);
        Assert.Equal(a, b);
        Assert.Equal(a!.GetHashCode(), b!.GetHashCode());
    }
}

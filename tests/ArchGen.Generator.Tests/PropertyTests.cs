using System.Globalization;
using ArchGen.Generator.Emitting;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Validation;
using ArchGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Tests;

// The generator's copies of the enums the runtime also defines.
using MobileNetV2Flavor = ArchGen.Generator.Model.MobileNetV2Flavor;
using Nonlinearity = ArchGen.Generator.Model.Nonlinearity;
using ShortcutPlacement = ArchGen.Generator.Model.ShortcutPlacement;

/// <summary>Random tables, valid and invalid (seeded): the generator never throws, and every invalid table gets an ARCH error.</summary>
public class PropertyTests
{
    private static int BadInt(Random r) => r.Next(6) switch
    {
        0 => int.MinValue,
        1 => int.MaxValue,
        2 => 0,
        3 => -r.Next(1, 100),
        4 => r.Next(100_000, 10_000_000),
        _ => r.Next(-3, 4),
    };

    private static double BadDouble(Random r) => r.Next(7) switch
    {
        0 => 0,
        1 => -r.NextDouble(),
        2 => double.NaN,
        3 => double.PositiveInfinity,
        4 => 1e300,
        5 => 1.0,
        _ => 1 + r.NextDouble(),
    };

    private static T Shipped<T>() where T : Family => FamilyCatalog.Shipped.All.OfType<T>().Single();

    private static readonly Family[] Families = [Shipped<MobileNetV2Family>(), Shipped<MobileNetV3Family>(), Shipped<EfficientNetFamily>()];

    /// <summary>The row with one field (by name) set; rows without that field stay as they are.</summary>
    private static Row WithField(Row row, string field, int value) => row switch
    {
        BottleneckRow b => field switch { "T" => b with { T = value }, "C" => b with { C = value }, "N" => b with { N = value }, "S" => b with { S = value }, _ => b },
        BneckRow b => field switch { "K" => b with { K = value }, "Exp" => b with { Exp = value }, "C" => b with { C = value }, "Nl" => b with { Nl = (Nonlinearity)value }, "S" => b with { S = value }, _ => b },
        MBConvRow m => field switch { "T" => m with { T = value }, "K" => m with { K = value }, "C" => m with { C = value }, "N" => m with { N = value }, "S" => m with { S = value }, _ => m },
        _ => throw new ArgumentException(row.GetType().Name),
    };

    /// <summary>Half the specs are valid tables (of any family); the other half have one to three fields set to bad or extreme values.</summary>
    private static ModelSpec RandomSpec(Random r, bool randomShape)
    {
        var family = Families[r.Next(3)];
        int rows = r.Next(1, 6);
        var table = new Row[rows];
        for (int i = 0; i < rows; i++)
        {
            table[i] = family switch
            {
                MobileNetV2Family => new BottleneckRow(r.Next(1, 8), r.Next(1, 400), r.Next(1, 4), r.Next(1, 3)),
                MobileNetV3Family => new BneckRow((2 * r.Next(4)) + 1, r.Next(1, 800), r.Next(1, 400), r.Next(2) == 0, (Nonlinearity)r.Next(2), r.Next(1, 3)),
                _ => new MBConvRow(r.Next(1, 8), (2 * r.Next(4)) + 1, r.Next(1, 400), r.Next(1, 4), r.Next(1, 3)),
            };
        }

        double width = r.Next(4) == 0 ? 1.0 : Math.Round(0.1 + (r.NextDouble() * 1.9), 3);
        int stem = r.Next(1, 65);
        double dropout = Math.Round(r.NextDouble() * 0.9, 2);
        FamilyOptions options = family switch
        {
            MobileNetV2Family => new MobileNetV2Options((MobileNetV2Flavor)r.Next(2), width, stem, r.Next(1, 2049), r.Next(3) == 0 ? -1 : dropout, r.Next(2) == 0, (ShortcutPlacement)r.Next(3)),
            MobileNetV3Family => new MobileNetV3Options(width, stem, r.Next(1, 2049), dropout),
            _ => new EfficientNetOptions(width, r.Next(3) == 0 ? 1.0 : Math.Round(0.1 + (r.NextDouble() * 2), 2), stem, dropout, Math.Round(r.NextDouble() * 0.5, 2)),
        };
        var spec = ModelSpec.Defaults(family) with
        {
            Namespace = "Samples",
            ClassName = "Random" + r.Next(1000).ToString(CultureInfo.InvariantCulture),
            Classes = r.Next(1, 1000),
            InputSize = r.Next(1, 257),
            InputChannels = r.Next(1, 5),
            Options = options,
            Rows = new EquatableArray<Row>(table),
        };
        if (r.Next(2) == 0)
        {
            return spec;
        }

        // A named argument the family does not have leaves its options as they are, as it does when parsed.
        ModelSpec Option(string name, object value) => spec with { Options = family.WithArgument(spec.Options, name, value, new ArgumentReader()) };
        for (int k = r.Next(1, 4); k > 0; k--)
        {
            int row = r.Next(rows);
            int choice = r.Next(randomShape ? 22 : 21);
            if (spec.Rows.IsEmpty && choice is (>= 9 and <= 14) or (>= 15 and <= 17))
            {
                continue;
            }

            (string Field, int Value)? changed = null;
            switch (choice)
            {
                case 0: spec = Option("Flavor", r.Next(2, 9)); break;
                case 1: spec = spec with { Classes = BadInt(r) }; break;
                case 2: spec = spec with { InputSize = BadInt(r) }; break;
                case 3: spec = spec with { InputChannels = BadInt(r) }; break;
                case 4: spec = Option("Width", BadDouble(r)); break;
                case 5: spec = Option("StemChannels", BadInt(r)); break;
                case 6: spec = Option("HeadChannels", BadInt(r)); break;
                case 7: spec = Option("Dropout", BadDouble(r)); break;
                case 8: spec = spec with { Rows = EquatableArray<Row>.Empty }; rows = 1; break;
                case 9: changed = ("T", BadInt(r)); break;
                case 10: changed = ("C", BadInt(r)); break;
                case 11: changed = ("N", BadInt(r)); break;
                case 12: changed = ("S", BadInt(r)); break;
                case 13: changed = ("S", 2); spec = spec with { InputSize = r.Next(1, 4) }; break;
                case 14: changed = ("N", r.Next(1001, 5000)); break;
                case 15: changed = ("K", BadInt(r)); break;
                case 16: changed = ("Exp", BadInt(r)); break;
                case 17: changed = ("Nl", BadInt(r)); break;
                case 18: spec = Option("Depth", BadDouble(r)); break;
                case 19: spec = Option("StochasticDepth", BadDouble(r)); break;
                case 20: spec = Option("Shortcut", r.Next(3, 9)); break;
                default:
                    spec = spec with { Shape = new ClassShape(r.Next(3) != 0, r.Next(4) == 0, r.Next(4) == 0, r.Next(4) == 0, r.Next(4) == 0, r.Next(4) != 0, false) };
                    break;
            }

            if (changed is { } change && !spec.Rows.IsEmpty)
            {
                var list = spec.Rows.ToArray();
                list[row] = WithField(list[row], change.Field, change.Value);
                spec = spec with { Rows = new EquatableArray<Row>(list) };
            }
        }

        return spec;
    }

    /// <summary>An oracle written independently of the validator: does the table break a documented rule?</summary>
    private static bool BreaksARule(ModelSpec s)
    {
        var shape = s.Shape;
        if (!shape.IsPartial || shape.IsNested || shape.IsGeneric || shape.IsStaticOrAbstractOrRecord || shape.HasBaseClass || !shape.TorchSharpReferenced)
        {
            return true;
        }

        static bool BadKernel(int k) => k < 1 || k % 2 == 0;
        static bool BadPositive(double v) => !(v > 0) || double.IsInfinity(v);
        static bool BadRate(double v) => !(v >= 0 && v < 1);
        static bool BadStride(int s) => s is not (1 or 2);
        bool badOptions = s.Options switch
        {
            MobileNetV2Options o => o.Flavor is not (MobileNetV2Flavor.Paper or MobileNetV2Flavor.Cifar) || BadPositive(o.Width) || o.StemChannels < 1 || o.HeadChannels < 1 || !(o.Dropout < 1)
                || o.Shortcut is not (ShortcutPlacement.Bottleneck or ShortcutPlacement.None or ShortcutPlacement.Expansion)
                || (o.Shortcut == ShortcutPlacement.Expansion && !ExpansionsJoin(o, s.Rows.Cast<BottleneckRow>())),
            MobileNetV3Options o => BadPositive(o.Width) || o.StemChannels < 1 || o.HeadChannels < 1 || BadRate(o.Dropout),
            EfficientNetOptions o => BadPositive(o.Width) || o.StemChannels < 1 || BadRate(o.Dropout) || BadPositive(o.Depth) || BadRate(o.StochasticDepth),
            _ => throw new ArgumentException(s.Options.GetType().Name),
        };
        return badOptions
            || s.Classes < 1 || s.InputSize < 1 || s.InputChannels < 1
            || s.Rows.Length == 0
            || s.Rows.Any(row => row switch
            {
                BottleneckRow b => b.T < 1 || b.C < 1 || b.N < 1 || BadStride(b.S),
                BneckRow b => BadKernel(b.K) || b.Exp < 1 || b.C < 1 || b.Nl is not (Nonlinearity.ReLU or Nonlinearity.HardSwish) || BadStride(b.S),
                MBConvRow m => m.T < 1 || BadKernel(m.K) || m.C < 1 || m.N < 1 || BadStride(m.S),
                _ => throw new ArgumentException(row.GetType().Name),
            });
    }

    /// <summary>
    /// Whether some block follows a stride-1 block and both expand to the same width (the residual between expansions
    /// has something to join): the channels as torchvision and kuangliu compute them, walked block by block.
    /// </summary>
    private static bool ExpansionsJoin(MobileNetV2Options o, IEnumerable<BottleneckRow> rows)
    {
        bool paper = o.Flavor == MobileNetV2Flavor.Paper, scale = paper || o.Width != 1.0;
        double Channels(double c) => scale ? Planning.PlanBuilder.MakeDivisible(c * o.Width) : c;
        double inputs = Channels(o.StemChannels), beforeWidth = -1;
        foreach (var row in rows)
        {
            for (int i = 0; i < row.N; i++)
            {
                bool expands = !paper || row.T != 1;
                double width = expands ? inputs * row.T : -1;
                if (expands && width == beforeWidth)
                {
                    return true;
                }

                beforeWidth = (i == 0 ? row.S : 1) == 1 ? width : -1;
                inputs = Channels(row.C);
            }
        }

        return false;
    }

    [Fact]
    public void TenThousandRandomSpecsThroughValidatorAndEmitter()
    {
        var random = new Random(20261129);
        int valid = 0, invalid = 0, tooLarge = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var spec = RandomSpec(random, randomShape: true);
            var problems = Validator.Validate(spec, "SomeBase", out var plan);
            var errors = problems.Where(p => p.IsError).ToList();
            string? source = errors.Count == 0 && plan is not null ? Emitter.Emit(plan) : null;
            Assert.All(problems, p => Assert.StartsWith("ARCH", p.Descriptor.Id));
            if (BreaksARule(spec))
            {
                invalid++;
                Assert.True(errors.Count > 0, $"#{i}: no ARCH error for {spec}");
                Assert.Null(source);
            }
            else if (source is null)
            {
                tooLarge++;
                Assert.Equal("ARCH0020", Assert.Single(errors).Descriptor.Id);
            }
            else
            {
                valid++;
                Assert.Empty(errors);
                Assert.Equal(plan, Validator.ValidPlan(spec)); // what the generator emits is the plan the analyzer checked
                Assert.Contains("public const long ParameterCount = ", source);
                Assert.DoesNotContain("\r", source);
            }
        }

        // The generator is exercised on both sides.
        Assert.True(valid > 3000 && invalid > 1000 && tooLarge > 10, $"valid {valid}, invalid {invalid}, too large {tooLarge}");
    }

    private static string Literal(double v) =>
        double.IsNaN(v) ? "double.NaN" : double.IsPositiveInfinity(v) ? "double.PositiveInfinity" : double.IsNegativeInfinity(v) ? "double.NegativeInfinity" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Literal(int v) => v == int.MinValue ? "int.MinValue" : v.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void ThreeHundredRandomTablesThroughTheRealDriverAndAnalyzer()
    {
        var random = new Random(7);
        var compilation = Harness.Compile("namespace Samples { }");
        var placeholder = compilation.SyntaxTrees.Single();
        for (int i = 0; i < 300; i++)
        {
            var spec = RandomSpec(random, randomShape: false);
            bool notPartial = random.Next(15) == 0, withBase = random.Next(15) == 0;
            spec = spec with { Shape = spec.Shape with { IsPartial = !notPartial, HasBaseClass = withBase } };
            var common = new List<string>
            {
                "Classes = " + Literal(spec.Classes),
                "InputSize = " + Literal(spec.InputSize),
                "InputChannels = " + Literal(spec.InputChannels),
            };
            string model, rows;
            switch (spec.Options)
            {
                case MobileNetV2Options o:
                    model = $"MobileNetV2(Flavor = (MobileNetV2Flavor){Literal((int)o.Flavor)}, Width = {Literal(o.Width)}, StemChannels = {Literal(o.StemChannels)}, HeadChannels = {Literal(o.HeadChannels)}, Dropout = {Literal(o.Dropout)}, LinearBottleneck = {(o.LinearBottleneck ? "true" : "false")}, Shortcut = (ShortcutPlacement){Literal((int)o.Shortcut)}, {string.Join(", ", common)})";
                    rows = string.Concat(spec.Rows.Cast<BottleneckRow>().Select(r => $"[Bottleneck({Literal(r.T)}, {Literal(r.C)}, {Literal(r.N)}, {Literal(r.S)})]\n"));
                    break;
                case MobileNetV3Options o:
                    model = $"MobileNetV3(Width = {Literal(o.Width)}, StemChannels = {Literal(o.StemChannels)}, HeadChannels = {Literal(o.HeadChannels)}, Dropout = {Literal(o.Dropout)}, {string.Join(", ", common)})";
                    rows = string.Concat(spec.Rows.Cast<BneckRow>().Select(r => $"[Bneck({Literal(r.K)}, {Literal(r.Exp)}, {Literal(r.C)}, {(r.Se ? "true" : "false")}, (Nonlinearity)({Literal((int)r.Nl)}), {Literal(r.S)})]\n"));
                    break;
                case EfficientNetOptions o:
                    model = $"EfficientNet(Width = {Literal(o.Width)}, Depth = {Literal(o.Depth)}, StemChannels = {Literal(o.StemChannels)}, Dropout = {Literal(o.Dropout)}, StochasticDepth = {Literal(o.StochasticDepth)}, {string.Join(", ", common)})";
                    rows = string.Concat(spec.Rows.Cast<MBConvRow>().Select(r => $"[MBConv({Literal(r.T)}, {Literal(r.K)}, {Literal(r.C)}, {Literal(r.N)}, {Literal(r.S)})]\n"));
                    break;
                default:
                    throw new ArgumentException(spec.Options.GetType().Name);
            }

            string source = Harness.Usings + "namespace Samples;\npublic class SomeBase { }\n"
                + "[" + model + "]\n" + rows
                + "public " + (notPartial ? string.Empty : "partial ") + "class " + spec.ClassName + (withBase ? " : SomeBase" : string.Empty) + " { }\n";
            var edited = compilation.ReplaceSyntaxTree(placeholder, Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(source, Harness.ParseOptions, path: "Random.cs"));
            Assert.Empty(edited.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

            var (_, result) = Harness.Generate(edited); // asserts no generator exception
            var errors = Harness.Analyze(edited).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.All(errors, d => Assert.StartsWith("ARCH", d.Id));
            if (BreaksARule(spec))
            {
                Assert.True(errors.Count > 0, $"#{i}: no ARCH error for\n{source}");
                Assert.Empty(result.GeneratedTrees);
            }
            else if (errors.Count > 0)
            {
                Assert.Equal("ARCH0020", Assert.Single(errors).Id);
                Assert.Empty(result.GeneratedTrees);
            }
            else
            {
                Assert.Single(result.GeneratedTrees);
            }
        }
    }
}

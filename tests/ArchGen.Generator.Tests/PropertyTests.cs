using System.Globalization;
using ArchGen.Generator.Emitting;
using ArchGen.Generator.Model;
using ArchGen.Generator.Validation;
using ArchGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Tests;

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

    /// <summary>Half the specs are valid tables (of any family); the other half have one to three fields set to bad or extreme values.</summary>
    private static ModelSpec RandomSpec(Random r, bool randomShape)
    {
        var family = (Family)r.Next(3);
        int rows = r.Next(1, 6);
        var table = new RowSpec[rows];
        for (int i = 0; i < rows; i++)
        {
            table[i] = family switch
            {
                Family.MobileNetV2 => RowSpec.Bottleneck(r.Next(1, 8), r.Next(1, 400), r.Next(1, 4), r.Next(1, 3)),
                Family.MobileNetV3 => new RowSpec(0, (2 * r.Next(4)) + 1, r.Next(1, 800), r.Next(1, 400), 1, r.Next(2) == 0, r.Next(2), r.Next(1, 3)),
                _ => new RowSpec(r.Next(1, 8), (2 * r.Next(4)) + 1, 0, r.Next(1, 400), r.Next(1, 4), false, 0, r.Next(1, 3)),
            };
        }

        var spec = FamilyInfo.Of(family).Defaults with
        {
            Namespace = "Samples",
            ClassName = "Random" + r.Next(1000).ToString(CultureInfo.InvariantCulture),
            FlavorValue = r.Next(2),
            Classes = r.Next(1, 1000),
            InputSize = r.Next(1, 257),
            InputChannels = r.Next(1, 5),
            Width = r.Next(4) == 0 ? 1.0 : Math.Round(0.1 + (r.NextDouble() * 1.9), 3),
            Depth = r.Next(3) == 0 ? 1.0 : Math.Round(0.1 + (r.NextDouble() * 2), 2),
            StemChannels = r.Next(1, 65),
            HeadChannels = r.Next(1, 2049),
            Dropout = family == Family.MobileNetV2 && r.Next(3) == 0 ? -1 : Math.Round(r.NextDouble() * 0.9, 2),
            StochasticDepth = family == Family.EfficientNet ? Math.Round(r.NextDouble() * 0.5, 2) : 0,
            Rows = new EquatableArray<RowSpec>(table),
        };
        if (r.Next(2) == 0)
        {
            return spec;
        }

        for (int k = r.Next(1, 4); k > 0; k--)
        {
            int row = r.Next(rows);
            int choice = r.Next(randomShape ? 21 : 20);
            if (spec.Rows.IsEmpty && choice is (>= 9 and <= 14) or (>= 15 and <= 17))
            {
                continue;
            }

            RowSpec With(Func<RowSpec, RowSpec> change) => change(spec.Rows[row]);
            RowSpec? changed = null;
            switch (choice)
            {
                case 0: spec = spec with { FlavorValue = r.Next(2, 9) }; break;
                case 1: spec = spec with { Classes = BadInt(r) }; break;
                case 2: spec = spec with { InputSize = BadInt(r) }; break;
                case 3: spec = spec with { InputChannels = BadInt(r) }; break;
                case 4: spec = spec with { Width = BadDouble(r) }; break;
                case 5: spec = spec with { StemChannels = BadInt(r) }; break;
                case 6: spec = spec with { HeadChannels = BadInt(r) }; break;
                case 7: spec = spec with { Dropout = BadDouble(r) }; break;
                case 8: spec = spec with { Rows = EquatableArray<RowSpec>.Empty }; rows = 1; break;
                case 9: changed = With(x => x with { T = BadInt(r) }); break;
                case 10: changed = With(x => x with { C = BadInt(r) }); break;
                case 11: changed = With(x => x with { N = BadInt(r) }); break;
                case 12: changed = With(x => x with { S = BadInt(r) }); break;
                case 13: changed = With(x => x with { S = 2 }); spec = spec with { InputSize = r.Next(1, 4) }; break;
                case 14: changed = With(x => x with { N = r.Next(1001, 5000) }); break;
                case 15: changed = With(x => x with { K = BadInt(r) }); break;
                case 16: changed = With(x => x with { Exp = BadInt(r) }); break;
                case 17: changed = With(x => x with { Nl = BadInt(r) }); break;
                case 18: spec = spec with { Depth = BadDouble(r) }; break;
                case 19: spec = spec with { StochasticDepth = BadDouble(r) }; break;
                default:
                    spec = spec with { Shape = new ClassShape(r.Next(3) != 0, r.Next(4) == 0, r.Next(4) == 0, r.Next(4) == 0, r.Next(4) == 0, r.Next(4) != 0, false) };
                    break;
            }

            if (changed is not null && !spec.Rows.IsEmpty)
            {
                var list = spec.Rows.ToArray();
                list[row] = changed;
                spec = spec with { Rows = new EquatableArray<RowSpec>(list) };
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

        bool v2 = s.Family == Family.MobileNetV2, v3 = s.Family == Family.MobileNetV3, efficientNet = s.Family == Family.EfficientNet;
        static bool BadKernel(int k) => k < 1 || k % 2 == 0;
        return (v2 && s.FlavorValue is not (0 or 1))
            || s.Classes < 1 || s.InputSize < 1 || s.InputChannels < 1
            || !(s.Width > 0) || double.IsInfinity(s.Width)
            || s.StemChannels < 1 || (!efficientNet && s.HeadChannels < 1)
            || !(s.Dropout < 1) || (!v2 && !(s.Dropout >= 0))
            || (efficientNet && (!(s.Depth > 0) || double.IsInfinity(s.Depth) || !(s.StochasticDepth >= 0 && s.StochasticDepth < 1)))
            || s.Rows.Length == 0
            || s.Rows.Any(row => row.C < 1 || row.S is not (1 or 2)
                || (v3 ? BadKernel(row.K) || row.Exp < 1 || row.Nl is not (0 or 1) : row.T < 1 || row.N < 1)
                || (efficientNet && BadKernel(row.K)));
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
                "Width = " + Literal(spec.Width),
                "StemChannels = " + Literal(spec.StemChannels),
                "Dropout = " + Literal(spec.Dropout),
            };
            string model, rows;
            switch (spec.Family)
            {
                case Family.MobileNetV2:
                    model = "MobileNetV2(Flavor = (MobileNetV2Flavor)" + Literal(spec.FlavorValue) + ", HeadChannels = " + Literal(spec.HeadChannels) + ", " + string.Join(", ", common) + ")";
                    rows = string.Concat(spec.Rows.Select(r => $"[Bottleneck({Literal(r.T)}, {Literal(r.C)}, {Literal(r.N)}, {Literal(r.S)})]\n"));
                    break;
                case Family.MobileNetV3:
                    model = "MobileNetV3(HeadChannels = " + Literal(spec.HeadChannels) + ", " + string.Join(", ", common) + ")";
                    rows = string.Concat(spec.Rows.Select(r => $"[Bneck({Literal(r.K)}, {Literal(r.Exp)}, {Literal(r.C)}, {(r.Se ? "true" : "false")}, (Nonlinearity)({Literal(r.Nl)}), {Literal(r.S)})]\n"));
                    break;
                default:
                    model = "EfficientNet(Depth = " + Literal(spec.Depth) + ", StochasticDepth = " + Literal(spec.StochasticDepth) + ", " + string.Join(", ", common) + ")";
                    rows = string.Concat(spec.Rows.Select(r => $"[MBConv({Literal(r.T)}, {Literal(r.K)}, {Literal(r.C)}, {Literal(r.N)}, {Literal(r.S)})]\n"));
                    break;
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

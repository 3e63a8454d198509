using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using ArchGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator;

/// <summary>Where a problem belongs in the source; the analyzer turns it into a <see cref="Location"/>.</summary>
internal enum TargetKind
{
    /// <summary>A named argument of <c>[MobileNetV2]</c> (<see cref="Target.Argument"/>), or the attribute when absent.</summary>
    ModelArgument,

    /// <summary>An argument (<c>t</c>, <c>c</c>, <c>n</c>, <c>s</c>) of the <see cref="Target.Row"/>-th <c>[Bottleneck]</c>.</summary>
    RowArgument,

    /// <summary>The class's identifier.</summary>
    ClassName,

    /// <summary>The class's base list.</summary>
    BaseList,

    /// <summary>The <c>[MobileNetV2]</c> attribute as a whole.</summary>
    ModelAttribute,

    /// <summary>The first <c>[Bottleneck]</c> written on another partial declaration.</summary>
    StrayRow,
}

/// <summary>A source position described without syntax.</summary>
internal readonly record struct Target(TargetKind Kind, string? Argument = null, int Row = -1);

/// <summary>One finding of the validator.</summary>
internal sealed record Problem(DiagnosticDescriptor Descriptor, Target Target, ImmutableArray<string> Args)
{
    public bool IsError => Descriptor.DefaultSeverity == DiagnosticSeverity.Error;
}

/// <summary>
/// Checks a <see cref="ModelSpec"/>. Shared by the generator (which skips models with errors) and the
/// <see cref="ArchGenAnalyzer"/> (which reports them). Pure: no symbols, never throws.
/// </summary>
internal static class Validator
{
    public static bool IsValid(ModelSpec spec)
    {
        foreach (var p in Validate(spec, baseClassName: null))
        {
            if (p.IsError)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Members and nested types the generated part declares; a class cannot have a member with its own name.</summary>
    private static readonly HashSet<string> GeneratedMemberNames = new(System.StringComparer.Ordinal)
    {
        "ParameterCount", "MultiplyAdds", "Facts", "Fuse", "Fused", "RegisterInCatalog", "RegisterComponents", "FoldBatchNorm", "CopyLinear",
        "Sequential", "ConvBNActivation", "InvertedResidual", "Block", "Stem", "Head", "Dropout", "Classifier",
        "Conv1", "Bn1", "Conv2", "Bn2", "Linear", "forward",

        // The generated forward declares its locals with `var`.
        "var",
    };

    private static bool IsReservedName(ModelSpec spec)
    {
        string name = spec.ClassName;
        if (GeneratedMemberNames.Contains(name))
        {
            return true;
        }

        // Block fields: Block1, Block2, ... (Paper) or Block0, Block1, ... (Cifar).
        if (name.Length > 5 && name.StartsWith("Block", System.StringComparison.Ordinal))
        {
            foreach (char c in name.Substring(5))
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }

            return true;
        }

        return false;
    }

    public static ImmutableArray<Problem> Validate(ModelSpec spec, string? baseClassName)
    {
        var problems = ImmutableArray.CreateBuilder<Problem>();
        string name = spec.ClassName;
        void Add(DiagnosticDescriptor d, Target t, params string[] args) => problems.Add(new Problem(d, t, ImmutableArray.Create(args)));
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        var shape = spec.Shape;
        if (shape.HasAttributeErrors)
        {
            // The compiler already reports the broken argument; generate nothing.
            Add(Diagnostics.AttributeErrors, new Target(TargetKind.ModelAttribute), name);
            return problems.ToImmutable();
        }

        if (!shape.TorchSharpReferenced)
        {
            Add(Diagnostics.TorchSharpMissing, new Target(TargetKind.ModelAttribute), name);
        }

        if (!shape.IsPartial)
        {
            Add(Diagnostics.NotPartial, new Target(TargetKind.ClassName), name);
        }

        if (shape.IsNested)
        {
            Add(Diagnostics.Nested, new Target(TargetKind.ClassName), name);
        }

        if (shape.IsGeneric)
        {
            Add(Diagnostics.Generic, new Target(TargetKind.ClassName), name);
        }

        if (IsReservedName(spec))
        {
            Add(Diagnostics.ReservedName, new Target(TargetKind.ClassName), name);
        }

        if (shape.IsStaticOrAbstractOrRecord)
        {
            Add(Diagnostics.NotPlainClass, new Target(TargetKind.ClassName), name);
        }

        if (shape.RowsOnAnotherDeclaration)
        {
            Add(Diagnostics.RowsOnAnotherDeclaration, new Target(TargetKind.StrayRow), name);
        }

        if (shape.HasBaseClass)
        {
            Add(Diagnostics.HasBaseClass, new Target(TargetKind.BaseList), name, baseClassName ?? "?");
        }

        bool valuesOk = true;
        void Check(bool ok, DiagnosticDescriptor d, Target t, string value)
        {
            if (!ok)
            {
                valuesOk = false;
                Add(d, t, value);
            }
        }

        Target M(string arg) => new(TargetKind.ModelArgument, arg);
        Check(spec.FlavorValue is 0 or 1, Diagnostics.FlavorOutOfRange, M("Flavor"), I(spec.FlavorValue));

        Check(spec.Classes >= 1, Diagnostics.ClassesOutOfRange, M("Classes"), I(spec.Classes));
        Check(spec.InputSize >= 1, Diagnostics.InputSizeOutOfRange, M("InputSize"), I(spec.InputSize));
        Check(spec.InputChannels >= 1, Diagnostics.InputChannelsOutOfRange, M("InputChannels"), I(spec.InputChannels));
        Check(spec.Width > 0 && !double.IsInfinity(spec.Width) && !double.IsNaN(spec.Width), Diagnostics.WidthOutOfRange, M("Width"), D(spec.Width));
        Check(spec.StemChannels >= 1, Diagnostics.StemChannelsOutOfRange, M("StemChannels"), I(spec.StemChannels));
        Check(spec.HeadChannels >= 1, Diagnostics.HeadChannelsOutOfRange, M("HeadChannels"), I(spec.HeadChannels));
        Check(spec.Dropout < 1 && !double.IsNaN(spec.Dropout), Diagnostics.DropoutOutOfRange, M("Dropout"), D(spec.Dropout));

        if (spec.Rows.IsEmpty)
        {
            valuesOk = false;
            Add(Diagnostics.NoRows, new Target(TargetKind.ModelAttribute), name);
        }

        for (int r = 0; r < spec.Rows.Length; r++)
        {
            var row = spec.Rows[r];
            string rowNumber = I(r + 1);
            void RowCheck(bool ok, DiagnosticDescriptor d, string arg, int value)
            {
                if (!ok)
                {
                    valuesOk = false;
                    Add(d, new Target(TargetKind.RowArgument, arg, r), rowNumber, I(value));
                }
            }

            RowCheck(row.T >= 1, Diagnostics.ExpansionOutOfRange, "t", row.T);
            RowCheck(row.C >= 1, Diagnostics.ChannelsOutOfRange, "c", row.C);
            RowCheck(row.N >= 1, Diagnostics.RepeatsOutOfRange, "n", row.N);
            RowCheck(row.S is 1 or 2, Diagnostics.StrideOutOfRange, "s", row.S);
        }

        if (valuesOk)
        {
            var plan = NetworkPlan.TryCreate(spec, out string? tooLarge);
            if (plan is null)
            {
                Add(Diagnostics.TooLarge, new Target(TargetKind.ModelAttribute), name, tooLarge ?? "unknown reason");
            }
            else
            {
                foreach (int r in plan.StrideOnOneByOneRows)
                {
                    Add(Diagnostics.StrideOnOneByOneMap, new Target(TargetKind.RowArgument, "s", r), I(r + 1), I(spec.InputSize));
                }
            }
        }

        return problems.ToImmutable();
    }
}

using System.Collections.Immutable;
using System.Globalization;
using ArchGen.Generator.Emitting;
using ArchGen.Generator.Model;
using ArchGen.Generator.Planning;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Validation;

/// <summary>Where a problem belongs in the source; the analyzer turns it into a <see cref="Location"/>.</summary>
internal enum TargetKind
{
    /// <summary>A named argument of the model attribute (<see cref="Target.Argument"/>), or the attribute when absent.</summary>
    ModelArgument,

    /// <summary>An argument (<see cref="Target.Argument"/>, by name) of the <see cref="Target.Row"/>-th row.</summary>
    RowArgument,

    /// <summary>The class's identifier.</summary>
    ClassName,

    /// <summary>The class's base list.</summary>
    BaseList,

    /// <summary>The model attribute as a whole.</summary>
    ModelAttribute,

    /// <summary>The first row written on another partial declaration.</summary>
    StrayRow,

    /// <summary>The first model or row attribute of another family.</summary>
    OtherFamily,
}

/// <summary>A source position described without syntax.</summary>
internal readonly record struct Target(TargetKind Kind, string? Argument = null, int Row = -1);

/// <summary>One finding of the validator.</summary>
internal sealed record Problem(DiagnosticDescriptor Descriptor, Target Target, ImmutableArray<string> Args)
{
    public bool IsError => Descriptor.DefaultSeverity == DiagnosticSeverity.Error;
}

/// <summary>
/// Checks a <see cref="ModelSpec"/> and plans it: the spec's values first, then the plan (too large, strides on 1x1
/// maps, a class name that clashes with a member the emitter declares for this plan). Shared by the generator, which
/// emits only plans without errors, and the <see cref="ArchGenAnalyzer"/>, which reports the problems. Pure: no
/// symbols, never throws.
/// </summary>
internal static class Validator
{
    /// <summary>The plan of a spec without errors, else null: the generator's one call per model.</summary>
    public static LayerPlan? ValidPlan(ModelSpec spec)
    {
        var problems = Validate(spec, baseClassName: null, out var plan);
        foreach (var problem in problems)
        {
            if (problem.IsError)
            {
                return null;
            }
        }

        return plan;
    }

    public static ImmutableArray<Problem> Validate(ModelSpec spec, string? baseClassName, out LayerPlan? plan)
    {
        plan = null;
        var problems = ImmutableArray.CreateBuilder<Problem>();
        var family = FamilyInfo.Of(spec.Family);
        string name = spec.ClassName, model = family.Name, row = family.Row;
        void Add(DiagnosticDescriptor d, Target t, params string[] args) => problems.Add(new Problem(d, t, ImmutableArray.Create(args)));
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        var shape = spec.Shape;
        if (shape.HasAttributeErrors)
        {
            // The compiler already reports the broken argument; generate nothing.
            Add(Diagnostics.AttributeErrors, new Target(TargetKind.ModelAttribute), name, model, row);
            return problems.ToImmutable();
        }

        var classTarget = new Target(TargetKind.ClassName);
        if (!shape.TorchSharpReferenced)
        {
            Add(Diagnostics.TorchSharpMissing, new Target(TargetKind.ModelAttribute), name, model);
        }

        if (!shape.IsPartial)
        {
            Add(Diagnostics.NotPartial, classTarget, name, model);
        }

        if (shape.IsNested)
        {
            Add(Diagnostics.Nested, classTarget, name, model);
        }

        if (shape.IsGeneric)
        {
            Add(Diagnostics.Generic, classTarget, name, model);
        }

        if (shape.IsStaticOrAbstractOrRecord)
        {
            Add(Diagnostics.NotPlainClass, classTarget, name, model);
        }

        if (shape.RowsOnAnotherDeclaration)
        {
            Add(Diagnostics.RowsOnAnotherDeclaration, new Target(TargetKind.StrayRow), name, model, row);
        }

        if (shape.OtherFamily is { } other)
        {
            Add(Diagnostics.MixedFamilies, new Target(TargetKind.OtherFamily), name, model, other);
        }

        if (shape.HasBaseClass)
        {
            Add(Diagnostics.HasBaseClass, new Target(TargetKind.BaseList), name, baseClassName ?? "?");
        }

        bool valuesOk = true;
        void Check(bool ok, DiagnosticDescriptor d, string argument, params string[] args)
        {
            if (!ok)
            {
                valuesOk = false;
                Add(d, new Target(TargetKind.ModelArgument, argument), args);
            }
        }

        static bool Finite(double v) => !double.IsNaN(v) && !double.IsInfinity(v);
        bool v2 = spec.Family == Family.MobileNetV2, v3 = spec.Family == Family.MobileNetV3, efficientNet = spec.Family == Family.EfficientNet;
        if (v2)
        {
            Check(spec.FlavorValue is 0 or 1, Diagnostics.FlavorOutOfRange, "Flavor", I(spec.FlavorValue));
        }

        Check(spec.Classes >= 1, Diagnostics.ClassesOutOfRange, "Classes", I(spec.Classes));
        Check(spec.InputSize >= 1, Diagnostics.InputSizeOutOfRange, "InputSize", I(spec.InputSize));
        Check(spec.InputChannels >= 1, Diagnostics.InputChannelsOutOfRange, "InputChannels", I(spec.InputChannels));
        Check(spec.Width > 0 && Finite(spec.Width), Diagnostics.WidthOutOfRange, "Width", D(spec.Width));
        Check(spec.StemChannels >= 1, Diagnostics.StemChannelsOutOfRange, "StemChannels", I(spec.StemChannels));
        if (!efficientNet)
        {
            Check(spec.HeadChannels >= 1, Diagnostics.HeadChannelsOutOfRange, "HeadChannels", I(spec.HeadChannels));
        }

        if (v2)
        {
            Check(spec.Dropout < 1 && !double.IsNaN(spec.Dropout), Diagnostics.DropoutOutOfRange, "Dropout", D(spec.Dropout), "less than 1 (negative means the flavor's default)");
        }
        else
        {
            Check(spec.Dropout >= 0 && spec.Dropout < 1, Diagnostics.DropoutOutOfRange, "Dropout", D(spec.Dropout), "in [0, 1)");
        }

        if (efficientNet)
        {
            Check(spec.Depth > 0 && Finite(spec.Depth), Diagnostics.DepthOutOfRange, "Depth", D(spec.Depth));
            Check(spec.StochasticDepth >= 0 && spec.StochasticDepth < 1, Diagnostics.StochasticDepthOutOfRange, "StochasticDepth", D(spec.StochasticDepth));
        }

        if (spec.Rows.IsEmpty)
        {
            valuesOk = false;
            if (shape.OtherFamily is null)
            {
                Add(Diagnostics.NoRows, new Target(TargetKind.ModelAttribute), name, model, row); // else the rows are of another family: ARCH0029 says so
            }
        }

        for (int r = 0; r < spec.Rows.Length; r++)
        {
            var values = spec.Rows[r];
            string rowNumber = I(r + 1);
            void RowCheck(bool ok, DiagnosticDescriptor d, string argument, params string[] args)
            {
                if (!ok)
                {
                    valuesOk = false;
                    Add(d, new Target(TargetKind.RowArgument, argument, r), args);
                }
            }

            if (v3)
            {
                RowCheck(values.K >= 1 && values.K % 2 == 1, Diagnostics.KernelOutOfRange, "k", rowNumber, I(values.K));
                RowCheck(values.Exp >= 1, Diagnostics.ExpansionOutOfRange, "exp", rowNumber, "exp", I(values.Exp));
                RowCheck(values.Nl is 0 or 1, Diagnostics.NonlinearityOutOfRange, "nl", rowNumber, I(values.Nl));
            }
            else
            {
                RowCheck(values.T >= 1, Diagnostics.ExpansionOutOfRange, "t", rowNumber, "t", I(values.T));
            }

            if (efficientNet)
            {
                RowCheck(values.K >= 1 && values.K % 2 == 1, Diagnostics.KernelOutOfRange, "k", rowNumber, I(values.K));
            }

            RowCheck(values.C >= 1, Diagnostics.ChannelsOutOfRange, "c", rowNumber, I(values.C));
            if (!v3)
            {
                RowCheck(values.N >= 1, Diagnostics.RepeatsOutOfRange, "n", rowNumber, I(values.N));
            }

            RowCheck(values.S is 1 or 2, Diagnostics.StrideOutOfRange, "s", rowNumber, I(values.S));
        }

        if (!valuesOk)
        {
            return problems.ToImmutable();
        }

        plan = Planner.TryPlan(spec, out string? tooLarge);
        if (plan is null)
        {
            Add(Diagnostics.TooLarge, new Target(TargetKind.ModelAttribute), name, tooLarge ?? "unknown reason");
            return problems.ToImmutable();
        }

        foreach (int r in plan.StrideOnOneByOneRows)
        {
            Add(Diagnostics.StrideOnOneByOneMap, new Target(TargetKind.RowArgument, "s", r), I(r + 1), I(spec.InputSize));
        }

        if (Emitter.DeclaredMemberNames(plan).Contains(name))
        {
            Add(Diagnostics.ReservedName, classTarget, name);
        }

        return problems.ToImmutable();
    }
}

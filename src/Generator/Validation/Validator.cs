using System.Collections.Immutable;
using ArchGen.Generator.Emitting;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Planning;
using Microsoft.CodeAnalysis;
using static ArchGen.Generator.Emitting.Code;

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
/// Checks a <see cref="ModelSpec"/> and plans it: the rules every model class has (its declaration, Classes,
/// InputSize, InputChannels, at least one row), then its family's own (<see cref="Family.Check"/>), then the plan (too
/// large, strides on 1x1 maps, a class name that clashes with a member the emitter declares for this plan, the
/// family's rules on its plan: <see cref="Family.CheckPlan"/>). Shared by
/// the generator, which emits only plans without errors, and the <see cref="ArchGenAnalyzer"/>, which reports the
/// problems. Pure: no symbols, never throws.
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
        var checks = new Checks();
        var family = spec.Family;
        string name = spec.ClassName, model = family.Name, row = family.RowName;
        var shape = spec.Shape;
        if (shape.HasAttributeErrors)
        {
            // The compiler already reports the broken argument; generate nothing.
            checks.Add(Diagnostics.AttributeErrors, new Target(TargetKind.ModelAttribute), name, model, row);
            return checks.Problems;
        }

        var classTarget = new Target(TargetKind.ClassName);
        void Require(bool ok, DiagnosticDescriptor descriptor, Target target, params string[] args)
        {
            if (!ok)
            {
                checks.Add(descriptor, target, args);
            }
        }

        Require(shape.TorchSharpReferenced, Diagnostics.TorchSharpMissing, new Target(TargetKind.ModelAttribute), name, model);
        Require(shape.IsPartial, Diagnostics.NotPartial, classTarget, name, model);
        Require(!shape.IsNested, Diagnostics.Nested, classTarget, name, model);
        Require(!shape.IsGeneric, Diagnostics.Generic, classTarget, name, model);
        Require(!shape.IsStaticOrAbstractOrRecord, Diagnostics.NotPlainClass, classTarget, name, model);
        Require(!shape.RowsOnAnotherDeclaration, Diagnostics.RowsOnAnotherDeclaration, new Target(TargetKind.StrayRow), name, model, row);
        Require(shape.OtherFamily is null, Diagnostics.MixedFamilies, new Target(TargetKind.OtherFamily), name, model, shape.OtherFamily ?? string.Empty);
        Require(!shape.HasBaseClass, Diagnostics.HasBaseClass, new Target(TargetKind.BaseList), name, baseClassName ?? "?");

        checks.AtLeastOne(spec.Classes, Diagnostics.ClassesOutOfRange, "Classes");
        checks.AtLeastOne(spec.InputSize, Diagnostics.InputSizeOutOfRange, "InputSize");
        checks.AtLeastOne(spec.InputChannels, Diagnostics.InputChannelsOutOfRange, "InputChannels");

        // No rows, unless they are of another family: ARCH0029 says so.
        Require(!spec.Rows.IsEmpty || shape.OtherFamily is not null, Diagnostics.NoRows, new Target(TargetKind.ModelAttribute), name, model, row);
        family.Check(spec, checks);
        if (checks.ValueFailed || spec.Rows.IsEmpty)
        {
            return checks.Problems;
        }

        plan = TryPlan(spec, out string? tooLarge);
        if (plan is null)
        {
            checks.Add(Diagnostics.TooLarge, new Target(TargetKind.ModelAttribute), name, tooLarge ?? "unknown reason");
            return checks.Problems;
        }

        foreach (int r in plan.StrideOnOneByOneRows)
        {
            checks.Add(Diagnostics.StrideOnOneByOneMap, new Target(TargetKind.RowArgument, "s", r), N(r + 1), N(spec.InputSize));
        }

        family.CheckPlan(spec, plan, checks);
        if (Emitter.DeclaredMemberNames(plan).Contains(name))
        {
            checks.Add(Diagnostics.ReservedName, classTarget, name);
        }

        return checks.Problems;
    }

    /// <summary>The family's plan, or null with the reason when the network is too large to build or count.</summary>
    private static LayerPlan? TryPlan(ModelSpec spec, out string? tooLarge)
    {
        tooLarge = null;
        try
        {
            return spec.Family.Plan(spec);
        }
        catch (TooLargeException e)
        {
            tooLarge = e.Message;
        }
        catch (System.OverflowException)
        {
            tooLarge = "its parameter or multiply-add count does not fit in a 64-bit integer";
        }

        return null;
    }
}

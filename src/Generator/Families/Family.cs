using System.Collections.Generic;
using System.Collections.Immutable;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Planning;
using ArchGen.Generator.Validation;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Families;

/// <summary>
/// A network family: its model and row attributes (in namespace <c>ArchGen</c>), how their arguments become values,
/// the rules only it has, and its planner. The parser, the shared <see cref="Validator"/>, the analyzer and the
/// generator reach a family only through this class, so a family is one file deriving
/// <see cref="Family{TOptions, TRow}"/> plus its attributes in the runtime (<c>src/Runtime/Models</c>).
/// </summary>
internal abstract class Family
{
    /// <summary>The model attribute's name without <c>Attribute</c>, e.g. <c>MobileNetV2</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The row attribute's name without <c>Attribute</c>, e.g. <c>Bottleneck</c>.</summary>
    public abstract string RowName { get; }

    /// <summary>The row constructor's parameter names, in order (to read rows and locate their diagnostics).</summary>
    public abstract ImmutableArray<string> RowArguments { get; }

    /// <summary>The defaults of the model attribute's named arguments that are the family's own.</summary>
    public abstract FamilyOptions Defaults { get; }

    public string ModelMetadataName => "ArchGen." + Name + "Attribute";

    public string RowMetadataName => "ArchGen." + RowName + "Attribute";

    /// <summary>The options with one named argument of the model attribute applied (names not the family's leave them as they are).</summary>
    public abstract FamilyOptions WithArgument(FamilyOptions options, string name, object value, ArgumentReader reader);

    /// <summary>Reads a row's constructor arguments (as many as <see cref="RowArguments"/>).</summary>
    public abstract Row ReadRow(ImmutableArray<TypedConstant> arguments, ArgumentReader reader);

    /// <summary>The family's own rules on its options and rows; the shared ones are the <see cref="Validator"/>'s.</summary>
    public abstract void Check(ModelSpec spec, Checks checks);

    /// <summary>The plan of a spec that passed every check; throws <see cref="TooLargeException"/> (or overflows) when too large.</summary>
    public abstract LayerPlan Plan(ModelSpec spec);

    /// <summary>The family's rules on what its planner made of the options and rows (an option that has nothing to act on, say).</summary>
    public abstract void CheckPlan(ModelSpec spec, LayerPlan plan, Checks checks);

    public override string ToString() => Name;
}

/// <summary>A family whose options and rows are the records <typeparamref name="TOptions"/> and <typeparamref name="TRow"/>.</summary>
internal abstract class Family<TOptions, TRow> : Family
    where TOptions : FamilyOptions
    where TRow : Row
{
    public sealed override FamilyOptions Defaults => DefaultOptions;

    protected abstract TOptions DefaultOptions { get; }

    public sealed override FamilyOptions WithArgument(FamilyOptions options, string name, object value, ArgumentReader reader) =>
        With((TOptions)options, name, value, reader);

    public sealed override Row ReadRow(ImmutableArray<TypedConstant> arguments, ArgumentReader reader) => Read(arguments, reader);

    public sealed override void Check(ModelSpec spec, Checks checks) => Check((TOptions)spec.Options, RowsOf(spec), checks);

    public sealed override LayerPlan Plan(ModelSpec spec) => Plan(spec, (TOptions)spec.Options, RowsOf(spec));

    public sealed override void CheckPlan(ModelSpec spec, LayerPlan plan, Checks checks) => CheckPlan((TOptions)spec.Options, plan, checks);

    protected abstract TOptions With(TOptions options, string name, object value, ArgumentReader reader);

    protected abstract TRow Read(ImmutableArray<TypedConstant> arguments, ArgumentReader reader);

    protected abstract void Check(TOptions options, IReadOnlyList<TRow> rows, Checks checks);

    protected abstract LayerPlan Plan(ModelSpec spec, TOptions options, IReadOnlyList<TRow> rows);

    /// <summary>See <see cref="Family.CheckPlan"/>; no rules unless the family has some.</summary>
    protected virtual void CheckPlan(TOptions options, LayerPlan plan, Checks checks)
    {
    }

    private static IReadOnlyList<TRow> RowsOf(ModelSpec spec)
    {
        var rows = new TRow[spec.Rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (TRow)spec.Rows[i];
        }

        return rows;
    }
}

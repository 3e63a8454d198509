using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Validation;

/// <summary>
/// Collects a model's problems as the <see cref="Validator"/> and the family's own rules find them, each with where it
/// belongs (a model argument, or an argument of a row by its index), and whether any value was out of range. The
/// rules more than one family shares are spelled once here.
/// </summary>
internal sealed class Checks
{
    private readonly ImmutableArray<Problem>.Builder _problems = ImmutableArray.CreateBuilder<Problem>();

    /// <summary>Whether a value check failed (the model is not planned then).</summary>
    public bool ValueFailed { get; private set; }

    public ImmutableArray<Problem> Problems => _problems.ToImmutable();

    public static bool Finite(double v) => !double.IsNaN(v) && !double.IsInfinity(v);

    /// <summary>Adds a problem that is not a value check (the class's shape, a missing reference, a warning on the plan).</summary>
    public void Add(DiagnosticDescriptor descriptor, Target target, params string[] args) =>
        _problems.Add(new Problem(descriptor, target, ImmutableArray.Create(args)));

    /// <summary>A rule on the model attribute's named <paramref name="argument"/>.</summary>
    public void Argument(bool ok, DiagnosticDescriptor descriptor, string argument, params string[] args)
    {
        if (!ok)
        {
            ValueFailed = true;
            Add(descriptor, new Target(TargetKind.ModelArgument, argument), args);
        }
    }

    /// <summary>A rule on <paramref name="argument"/> of row <paramref name="row"/> (0-based); the message gets the 1-based row number first.</summary>
    public void Row(int row, bool ok, DiagnosticDescriptor descriptor, string argument, params string[] args)
    {
        if (!ok)
        {
            ValueFailed = true;
            var all = new string[args.Length + 1];
            all[0] = N(row + 1);
            args.CopyTo(all, 1);
            Add(descriptor, new Target(TargetKind.RowArgument, argument, row), all);
        }
    }

    /// <summary>A count argument of the model attribute that must be at least 1 (Classes, StemChannels, …).</summary>
    public void AtLeastOne(int value, DiagnosticDescriptor descriptor, string argument) => Argument(value >= 1, descriptor, argument, N(value));

    public void Width(double width) => Argument(width > 0 && Finite(width), Diagnostics.WidthOutOfRange, "Width", D(width));

    /// <summary>A dropout probability in [0, 1).</summary>
    public void Dropout(double dropout) => Argument(dropout >= 0 && dropout < 1, Diagnostics.DropoutOutOfRange, "Dropout", D(dropout), "in [0, 1)");

    /// <summary>An expansion argument (<c>t</c>, <c>exp</c>) of at least 1.</summary>
    public void Expansion(int row, string argument, int value) => Row(row, value >= 1, Diagnostics.ExpansionOutOfRange, argument, argument, N(value));

    public void Kernel(int row, int k) => Row(row, k >= 1 && k % 2 == 1, Diagnostics.KernelOutOfRange, "k", N(k));

    public void Channels(int row, int c) => Row(row, c >= 1, Diagnostics.ChannelsOutOfRange, "c", N(c));

    public void Repeats(int row, int n) => Row(row, n >= 1, Diagnostics.RepeatsOutOfRange, "n", N(n));

    public void Stride(int row, int s) => Row(row, s is 1 or 2, Diagnostics.StrideOutOfRange, "s", N(s));
}

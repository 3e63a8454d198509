using System.Globalization;
using ArchGen.Generator.Planning;
using Microsoft.CodeAnalysis.CSharp;

namespace ArchGen.Generator.Emitting;

/// <summary>How values are written into generated C#: invariant-culture numbers, escaped strings, identifiers, and the layer table's texts.</summary>
internal static class Code
{
    /// <summary>The namespace of the runtime's building blocks, <c>global::</c>-qualified.</summary>
    public const string Blocks = "global::ArchGen.Blocks.";

    public static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Grouped(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    public static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A number for people (documentation and the layer table): at most four decimals.</summary>
    public static string Short(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Str(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>An identifier as C# source: keywords get an <c>@</c>.</summary>
    public static string Id(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    public static string KernelText(int kernel, int stride) => N(kernel) + "x" + N(kernel) + (stride != 1 ? " s" + N(stride) : string.Empty);

    public static string ActText(Activation act) => act == Activation.None ? string.Empty : ", " + act;

    public static string ShapeText(Shape shape) => shape.IsVector ? N(shape.Channels) : N(shape.Channels) + "x" + N(shape.Size) + "x" + N(shape.Size);

    /// <summary>The BatchNorm arguments of a block's constructor, when they are not PyTorch's defaults.</summary>
    public static string Norm(double eps, double momentum) =>
        eps == 1e-5 && momentum == 0.1 ? string.Empty : ", eps: " + D(eps) + ", momentum: " + D(momentum);
}

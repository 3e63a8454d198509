using System;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Validation;

/// <summary>
/// Every diagnostic ArchGen reports. IDs are listed in AnalyzerReleases.Unshipped.md. Messages name the family's
/// attributes (<c>[MobileNetV2]</c>/<c>[Bottleneck]</c>, …) through their arguments.
/// </summary>
internal static class Diagnostics
{
    public const string Category = "ArchGen";

    /// <summary>Diagnostics link to their ID's row in docs/api.md.</summary>
    public const string HelpLinkBase = "https://github.com/archgen/archgen/blob/main/docs/api.md#";

    public static readonly DiagnosticDescriptor ExpansionOutOfRange = Error("ARCH0001", "Expansion must be at least 1", "Row {0}: expansion {1} = {2} must be at least 1");
    public static readonly DiagnosticDescriptor ChannelsOutOfRange = Error("ARCH0002", "Output channels c must be at least 1", "Row {0}: output channels c = {1} must be at least 1");
    public static readonly DiagnosticDescriptor RepeatsOutOfRange = Error("ARCH0003", "Repeat count n must be at least 1", "Row {0}: repeat count n = {1} must be at least 1");
    public static readonly DiagnosticDescriptor StrideOutOfRange = Error("ARCH0004", "Stride s must be 1 or 2", "Row {0}: stride s = {1} must be 1 or 2");
    public static readonly DiagnosticDescriptor WidthOutOfRange = Error("ARCH0005", "Width must be a finite number greater than 0", "Width = {0} must be a finite number greater than 0");
    public static readonly DiagnosticDescriptor ClassesOutOfRange = Error("ARCH0006", "Classes must be at least 1", "Classes = {0} must be at least 1");
    public static readonly DiagnosticDescriptor InputSizeOutOfRange = Error("ARCH0007", "InputSize must be at least 1", "InputSize = {0} must be at least 1");
    public static readonly DiagnosticDescriptor InputChannelsOutOfRange = Error("ARCH0008", "InputChannels must be at least 1", "InputChannels = {0} must be at least 1");
    public static readonly DiagnosticDescriptor StrideOnOneByOneMap = new(
        "ARCH0009",
        "Stride-2 row acts on a 1x1 feature map",
        "Row {0}: stride 2 acts on a feature map that is already 1x1 at InputSize {1}; the stride has no effect",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The map cannot shrink below 1x1; the stride is wasted. Use s: 1 or a larger InputSize.",
        helpLinkUri: HelpLinkBase + "arch0009");

    public static readonly DiagnosticDescriptor StemChannelsOutOfRange = Error("ARCH0010", "StemChannels must be at least 1", "StemChannels = {0} must be at least 1");
    public static readonly DiagnosticDescriptor HeadChannelsOutOfRange = Error("ARCH0011", "HeadChannels must be at least 1", "HeadChannels = {0} must be at least 1");
    public static readonly DiagnosticDescriptor DropoutOutOfRange = Error("ARCH0012", "Dropout is out of range", "Dropout = {0} must be {1}");
    public static readonly DiagnosticDescriptor NotPartial = Error("ARCH0013", "A model class must be partial", "Class '{0}' has [{1}] but is not declared partial");
    public static readonly DiagnosticDescriptor Nested = Error("ARCH0014", "A model class must not be nested", "Class '{0}' has [{1}] but is nested in another type; declare it at namespace level");
    public static readonly DiagnosticDescriptor Generic = Error("ARCH0015", "A model class must not be generic", "Class '{0}' has [{1}] but is generic");
    public static readonly DiagnosticDescriptor NoRows = Error("ARCH0016", "A model class needs at least one row", "Class '{0}' has [{1}] but no [{2}] rows");
    public static readonly DiagnosticDescriptor RowsWithoutModel = Error("ARCH0017", "Rows need a model attribute on the same class", "Class '{0}' has [{1}] rows but no [{2}] attribute, so no model is generated");
    public static readonly DiagnosticDescriptor TorchSharpMissing = Error("ARCH0018", "A model needs a reference to TorchSharp", "Class '{0}' has [{1}] but the project does not reference TorchSharp; add the TorchSharp-cpu (or a CUDA) package");
    public static readonly DiagnosticDescriptor HasBaseClass = Error("ARCH0019", "A model class must not declare a base class", "Class '{0}' declares base class '{1}'; the generated part derives it from ArchGen.Blocks.GeneratedModel");
    public static readonly DiagnosticDescriptor TooLarge = Error("ARCH0020", "The table is too large", "Class '{0}' describes a network too large to generate: {1}");
    public static readonly DiagnosticDescriptor NotPlainClass = Error("ARCH0021", "A model class must be a plain, non-static, non-abstract class", "Class '{0}' has [{1}] but is static, abstract or a record");
    public static readonly DiagnosticDescriptor FlavorOutOfRange = Error("ARCH0022", "Flavor must be a MobileNetV2Flavor member", "Flavor = {0} is not a member of MobileNetV2Flavor (Paper or Cifar)");
    public static readonly DiagnosticDescriptor AttributeErrors = Error("ARCH0023", "The model's or rows' arguments do not compile", "Class '{0}' has [{1}] or [{2}] arguments that do not compile; no model is generated until they do");
    public static readonly DiagnosticDescriptor RowsOnAnotherDeclaration = Error("ARCH0024", "Rows must be on the declaration that has the model attribute", "Class '{0}' has [{2}] rows on another partial declaration; put every row next to [{1}]");
    public static readonly DiagnosticDescriptor ReservedName = Error("ARCH0025", "A model class must not be named like a generated member", "Class '{0}' has the name of a member or nested type the generated code declares (a member cannot share its class's name); rename the class");

    public static readonly DiagnosticDescriptor KernelOutOfRange = Error("ARCH0026", "Kernel k must be an odd number of at least 1", "Row {0}: kernel k = {1} must be an odd number of at least 1");
    public static readonly DiagnosticDescriptor DepthOutOfRange = Error("ARCH0027", "Depth must be a finite number greater than 0", "Depth = {0} must be a finite number greater than 0");
    public static readonly DiagnosticDescriptor StochasticDepthOutOfRange = Error("ARCH0028", "StochasticDepth must be in [0, 1)", "StochasticDepth = {0} must be in [0, 1)");
    public static readonly DiagnosticDescriptor MixedFamilies = Error("ARCH0029", "A class declares one network family", "Class '{0}' has [{1}] and also {2}; a class declares one network, with rows of its own family");
    public static readonly DiagnosticDescriptor NonlinearityOutOfRange = Error("ARCH0030", "nl must be a Nonlinearity member", "Row {0}: nl = {1} is not a member of Nonlinearity (ReLU or HardSwish)");
    public static readonly DiagnosticDescriptor ShortcutOutOfRange = Error("ARCH0031", "Shortcut must be a ShortcutPlacement member", "Shortcut = {0} is not a member of ShortcutPlacement (Bottleneck, None or Expansion)");

    public static readonly DiagnosticDescriptor WideResidualJoinsNothing = Error(
        "ARCH0032",
        "Shortcut = ShortcutPlacement.Expansion joins no blocks",
        "Shortcut = ShortcutPlacement.Expansion joins no blocks of this table: no block follows a stride-1 block that expands to the same width, so the network would have no residual at all; use ShortcutPlacement.None for that");

    /// <summary>
    /// Every descriptor above, by ID: the one list the analyzer declares (<c>SupportedDiagnostics</c>); the release
    /// file (AnalyzerReleases.Unshipped.md) is checked against it by the build's release tracking and by a test.
    /// </summary>
    public static ImmutableArray<DiagnosticDescriptor> All { get; } = typeof(Diagnostics)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .OrderBy(d => d.Id, StringComparer.Ordinal)
        .ToImmutableArray();

    private static DiagnosticDescriptor Error(string id, string title, string message) => new(
        id,
        title,
        message,
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + id.ToLowerInvariant());
}

using System;
using System.Collections.Generic;

namespace ArchGen.Generator.Planning;

/// <summary>
/// One operation of the network in forward order, with the typed field the generated model holds it in, its place in
/// the state_dict, and its shapes and costs for one image. The planner decides every number; each kind of step says
/// how it is written (its field's type and documentation, its construction, its line in the layer table), so the
/// emitter only loops over the plan. A new kind of step is one file here, its runtime block, and its ONNX exporter
/// (<c>src/Onnx/Export/Layers</c>).
/// </summary>
internal abstract record Step(string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds)
{
    /// <summary>What the layer table says the step is.</summary>
    public abstract string Kind { get; }

    /// <summary>The <c>global::</c>-qualified type of the generated field.</summary>
    public abstract string FieldType { get; }

    /// <summary>The field's one-line documentation (in the model, or <paramref name="fused"/> in its inference form).</summary>
    public abstract string Describe(bool fused);

    /// <summary>The expression that builds the step's module with fresh weights (<c>classes</c> is in scope).</summary>
    public abstract string Construct();

    /// <summary>The expression that builds the fused form's module from the model's field (<c>source</c> is in scope).</summary>
    public virtual string ConstructFused() => "source." + Field + ".Fuse()";

    /// <summary>The block's layers registered directly on the model under <see cref="Placement.FlatNames"/>, one per name.</summary>
    public virtual IReadOnlyList<string> FlatLayers => throw new InvalidOperationException(GetType().Name + " cannot be registered flattened.");

    /// <summary>
    /// Whether the step is on the wide residual (<c>Shortcut = ShortcutPlacement.Expansion</c>): the forward applies it
    /// with the <c>wide</c> tensor it carries from block to block.
    /// </summary>
    public virtual bool OnWideResidual => false;

    /// <summary>How the forward pass's comments name the step.</summary>
    public virtual string Where => Placement.Display;
}

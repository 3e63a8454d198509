using ArchGen.Blocks;

namespace ArchGen.Onnx.Export.Layers;

/// <summary>
/// <see cref="InvertedResidual"/>, fused: the optional 1x1 expansion, the depthwise convolution, squeeze-and-excitation
/// (<c>GlobalAveragePool</c>, two 1x1 convolutions, <c>Mul</c>), the 1x1 projection, and the shortcut's <c>Add</c>; on
/// the wide residual, the <c>Add</c> of the block before's expanded tensor (<see cref="GraphBuilder.Wide"/>) to the expansion's output.
/// </summary>
internal sealed class InvertedResidualExport : LayerExport<InvertedResidual>
{
    protected override string Export(GraphBuilder graph, string input, InvertedResidual block)
    {
        string name = graph.Name("block");
        string x = input;
        if (block.Expand is { } expand) x = ConvBnActExport.Write(graph, x, expand, name + ".expand");
        if (block.TakesWide)
            x = graph.Node("Add", name + ".wide", new[] { x, graph.Wide ?? throw new InvalidOperationException("A block takes the wide residual and the block before passed none.") });
        graph.Wide = block.PassesWide ? x : null;
        x = ConvBnActExport.Write(graph, x, block.Depthwise, name + ".depthwise");
        if (block.SqueezeExcitation is { } se)
        {
            string s = graph.Node("GlobalAveragePool", name + ".se.pool", new[] { x });
            s = graph.Activation(graph.Conv(s, se.Fc1, name + ".se.fc1"), se.Activation, name + ".se");
            s = graph.Activation(graph.Conv(s, se.Fc2, name + ".se.fc2"), se.Gate, name + ".se.gate");
            x = graph.Node("Mul", name + ".se.scale", new[] { x, s });
        }

        x = ConvBnActExport.Write(graph, x, block.Project, name + ".project");
        return block.Shortcut switch
        {
            ShortcutKind.Identity => graph.Node("Add", name + ".residual", new[] { x, input }),
            ShortcutKind.Projection => graph.Node("Add", name + ".residual", new[] { x, ConvBnActExport.Write(graph, input, block.Projection!, name + ".shortcut") }),
            _ => x,
        };
    }
}

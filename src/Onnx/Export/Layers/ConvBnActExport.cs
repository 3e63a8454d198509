using ArchGen.Blocks;

namespace ArchGen.Onnx.Export.Layers;

/// <summary><see cref="ConvBnAct"/>, fused: <c>Conv</c> (with the folded BatchNorm as its bias) and the activation.</summary>
internal sealed class ConvBnActExport : LayerExport<ConvBnAct>
{
    protected override string Export(GraphBuilder graph, string input, ConvBnAct layer) => Write(graph, input, layer, graph.Name("conv"));

    /// <summary>Writes <paramref name="layer"/> under <paramref name="name"/> (blocks name their inner convolutions after themselves).</summary>
    internal static string Write(GraphBuilder graph, string input, ConvBnAct layer, string name)
    {
        if (layer.Norm is not null) throw new System.ArgumentException("ONNX export takes the fused form: BatchNorm must be folded.");
        return graph.Activation(graph.Conv(input, layer.Conv, name), layer.Activation, name);
    }
}

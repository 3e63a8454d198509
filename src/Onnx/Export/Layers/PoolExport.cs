using TorchSharp.Modules;

namespace ArchGen.Onnx.Export.Layers;

/// <summary>Global average pooling to 1x1: <c>GlobalAveragePool</c>, then <c>Flatten</c> (the generated forward flattens after pooling).</summary>
internal sealed class PoolExport : LayerExport<AdaptiveAvgPool2d>
{
    protected override string Export(GraphBuilder graph, string input, AdaptiveAvgPool2d layer)
    {
        string x = graph.Node("GlobalAveragePool", "pool", new[] { input });
        return graph.Node("Flatten", "flatten", new[] { x }, GraphBuilder.Int("axis", 1));
    }
}

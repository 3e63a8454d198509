using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Export.Layers;

/// <summary>
/// How one kind of layer of a generated model's fused form becomes ONNX operators. Each runtime block kind has one
/// implementation in this folder; <see cref="OnnxExporter"/> finds them all by reflection, so a new block kind is
/// exported by adding its file here, without editing the exporter.
/// </summary>
internal interface ILayerExport
{
    /// <summary>The module type this exports (exactly; <c>ArchGen.Blocks.ConvBnAct</c>, say).</summary>
    System.Type LayerType { get; }

    /// <summary>Appends <paramref name="layer"/>'s operators reading <paramref name="input"/>; returns the name of its output.</summary>
    string Export(GraphBuilder graph, string input, nn.Module<Tensor, Tensor> layer);
}

/// <summary>A typed <see cref="ILayerExport"/>.</summary>
internal abstract class LayerExport<TLayer> : ILayerExport
    where TLayer : nn.Module<Tensor, Tensor>
{
    public System.Type LayerType => typeof(TLayer);

    public string Export(GraphBuilder graph, string input, nn.Module<Tensor, Tensor> layer) => Export(graph, input, (TLayer)layer);

    protected abstract string Export(GraphBuilder graph, string input, TLayer layer);
}

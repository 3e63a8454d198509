using ArchGen.Blocks;

namespace ArchGen.Onnx.Export.Layers;

/// <summary><see cref="Classifier"/>: the optional hidden <c>Gemm</c> and its activation, then the output <c>Gemm</c> (dropout is gone at inference).</summary>
internal sealed class ClassifierExport : LayerExport<Classifier>
{
    protected override string Export(GraphBuilder graph, string input, Classifier classifier)
    {
        string x = input;
        if (classifier.Hidden is { } hidden) x = graph.Activation(graph.Gemm(x, hidden, graph.Name("classifier.hidden")), classifier.HiddenActivation, "classifier.hidden");
        return graph.Gemm(x, classifier.Output, graph.Name("classifier.output"));
    }
}

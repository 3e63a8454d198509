using System.Reflection;
using ArchGen.Blocks;
using ArchGen.Onnx.Export.Layers;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Export;

/// <summary>
/// Writes a generated network as a self-contained ONNX model, without tracing: the fused model's
/// <see cref="GeneratedModel.ForwardLayers"/> (the same plan its C# forward comes from) become ONNX operators, with
/// every BatchNorm already folded into its convolution. Input <c>input</c> [batch, C, H, W] (symbolic batch), output
/// <c>logits</c> [batch, classes]; opset 17, IR version 8; class names and normalization in the metadata.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set the exported models use (HardSwish needs 14).</summary>
    public const int Opset = 17;

    /// <summary>The IR version of the exported models: what ONNX 1.12 (Debian 12) and later read.</summary>
    public const long IrVersion = 8;

    /// <summary>The graph's input name.</summary>
    public const string InputName = "input";

    /// <summary>The graph's output name.</summary>
    public const string OutputName = "logits";

    /// <summary>Every layer exporter in this assembly (<see cref="ILayerExport"/>), by the module type it exports.</summary>
    static readonly IReadOnlyDictionary<Type, ILayerExport> Exports = typeof(OnnxExporter).Assembly.GetTypes()
        .Where(t => typeof(ILayerExport).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (ILayerExport)Activator.CreateInstance(t)!)
        .ToDictionary(e => e.LayerType);

    /// <summary>Builds the ONNX model of <paramref name="model"/> (a catalog model; it is fused for the export and left as it was).</summary>
    public static ModelProto Build(CatalogEntry entry, nn.Module<Tensor, Tensor> model, OnnxMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.Validate("the export");
        using var noGrad = torch.no_grad();
        using var fused = entry.Fuse(model);
        if (fused is not GeneratedModel generated)
            throw new ArgumentException($"{entry.Facts.Name} is not a generated model; only ArchGen's generated networks can be exported to ONNX.");
        if (metadata.InputChannels != entry.Facts.InputChannels)
            throw new ArgumentException($"The metadata has {metadata.InputChannels} input channels; {entry.Facts.Name} takes {entry.Facts.InputChannels}.");

        var graph = new GraphProto { Name = entry.Facts.Name };
        var builder = new GraphBuilder(graph);
        string x = InputName;
        builder.Name(x);
        foreach (var layer in generated.ForwardLayers)
        {
            if (!Exports.TryGetValue(layer.GetType(), out var export))
                throw new NotSupportedException($"ONNX export does not know the layer type {layer.GetType().Name}; add its exporter to src/Onnx/Export/Layers.");
            x = export.Export(builder, x, layer);
        }

        long classes = generated.ForwardLayers.OfType<Classifier>().Single().Output.weight!.shape[0];
        if (classes != metadata.ClassNames.Count)
            throw new ArgumentException($"The metadata names {metadata.ClassNames.Count} classes; the model has {classes} outputs.");

        // The last node writes the graph's output.
        graph.Node[^1].Output[0] = OutputName;
        graph.Input.Add(Value(InputName, "batch", entry.Facts.InputChannels, metadata.InputSize, metadata.InputSize));
        graph.Output.Add(Value(OutputName, "batch", classes));

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ArchGen",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            DocString = $"{entry.Facts.FullName}: {entry.Facts.Architecture}, BatchNorm folded into the convolutions.",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        foreach (var (key, value) in metadata.ToProperties()) proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>Writes the ONNX model to <paramref name="path"/> atomically (<see cref="ArchGen.Checkpoints.AtomicFile"/>).</summary>
    public static void Save(CatalogEntry entry, nn.Module<Tensor, Tensor> model, OnnxMetadata metadata, string path, CancellationToken cancel = default)
    {
        var proto = Build(entry, model, metadata);
        ArchGen.Checkpoints.AtomicFile.Write(path, file => proto.WriteTo(file), cancel);
    }

    static ValueInfoProto Value(string name, string batch, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

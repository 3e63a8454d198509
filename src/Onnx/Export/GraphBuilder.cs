using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Export;

/// <summary>Appends ONNX nodes and their weights (as initializers) to a graph; every name it makes is unique.</summary>
internal sealed class GraphBuilder
{
    readonly GraphProto graph;
    readonly HashSet<string> names = new(StringComparer.Ordinal);

    public GraphBuilder(GraphProto graph) => this.graph = graph;

    /// <summary>
    /// The expanded tensor a block passed on as the wide residual (<c>Shortcut = ShortcutPlacement.Expansion</c>), for
    /// the next block to add; null when the last block passed none.
    /// </summary>
    public string? Wide { get; set; }

    /// <summary>A fresh name starting with <paramref name="stem"/>.</summary>
    public string Name(string stem)
    {
        string name = stem;
        for (int i = 1; !names.Add(name); i++) name = stem + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, string name, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        string output = Name(name);
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>A float initializer with the tensor's values (converted to float32, contiguous).</summary>
    public string Weight(Tensor tensor, string name)
    {
        using var values = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        float[] data = values.data<float>().ToArray();
        var proto = new TensorProto { Name = Name(name), DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        proto.Dims.AddRange(values.shape);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A scalar float initializer.</summary>
    public string Scalar(float value, string name)
    {
        var proto = new TensorProto { Name = Name(name), DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add(value);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A convolution with its weight and bias (a fused ConvBnAct's convolution always has one).</summary>
    public string Conv(string input, Convolution conv, string name)
    {
        var inputs = new List<string> { input, Weight(conv.weight, name + ".weight") };
        if (conv.bias is { } bias) inputs.Add(Weight(bias, name + ".bias"));
        long pad = conv.padding![0];
        return Node("Conv", name, inputs,
            Ints("kernel_shape", conv.kernel_size),
            Ints("strides", conv.stride),
            Ints("pads", new[] { pad, pad, pad, pad }),
            Ints("dilations", conv.dilation),
            Int("group", conv.groups));
    }

    /// <summary>A fully connected layer: <c>Gemm(x, W, b)</c> with W transposed, as PyTorch stores it.</summary>
    public string Gemm(string input, Linear linear, string name)
    {
        var inputs = new List<string> { input, Weight(linear.weight!, name + ".weight") };
        if (linear.bias is { } bias) inputs.Add(Weight(bias, name + ".bias"));
        return Node("Gemm", name, inputs, Int("transB", 1));
    }

    /// <summary>An activation as ONNX operators: Relu, Clip for ReLU6, HardSwish, Sigmoid·Mul for SiLU, HardSigmoid, Sigmoid.</summary>
    public string Activation(string input, ArchGen.Blocks.Activation activation, string name) => activation switch
    {
        ArchGen.Blocks.Activation.None => input,
        ArchGen.Blocks.Activation.ReLU => Node("Relu", name + ".relu", new[] { input }),
        ArchGen.Blocks.Activation.ReLU6 => Node("Clip", name + ".relu6", new[] { input, Constant(0f, "zero"), Constant(6f, "six") }),
        ArchGen.Blocks.Activation.HardSwish => Node("HardSwish", name + ".hardswish", new[] { input }),
        ArchGen.Blocks.Activation.SiLU => Node("Mul", name + ".silu", new[] { input, Node("Sigmoid", name + ".sigmoid", new[] { input }) }),
        ArchGen.Blocks.Activation.HardSigmoid => Node("HardSigmoid", name + ".hardsigmoid", new[] { input }, Float("alpha", 1f / 6f), Float("beta", 0.5f)),
        ArchGen.Blocks.Activation.Sigmoid => Node("Sigmoid", name + ".sigmoid", new[] { input }),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    readonly Dictionary<float, string> constants = new();

    string Constant(float value, string name)
    {
        if (!constants.TryGetValue(value, out var constant)) constants[value] = constant = Scalar(value, name);
        return constant;
    }

    static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
}

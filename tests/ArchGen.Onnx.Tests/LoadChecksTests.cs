using ArchGen.App.Tests;
using ArchGen.Onnx.Export;
using ArchGen.Onnx.Serving;
using Google.Protobuf;
using Onnx;

namespace ArchGen.Onnx.Tests;

/// <summary>
/// An ONNX model is checked when it loads: its metadata against its graph's input and output, and every metadata value
/// against a bound (issue 24, items 1 and 10). A mismatch is one line naming the file and both numbers.
/// </summary>
public class LoadChecksTests
{
    /// <summary>B0W05D05At64C5 (5 classes, 3 x 64 x 64) exported, then <paramref name="edit"/> applied to its proto.</summary>
    static string Write(TempDir dir, string name, Action<ModelProto> edit)
    {
        var (entry, model, metadata) = ExportTests.Prepare("B0W05D05At64C5");
        using (model)
        {
            var proto = OnnxExporter.Build(entry, model, metadata);
            edit(proto);
            string path = dir[name];
            File.WriteAllBytes(path, proto.ToByteArray());
            return path;
        }
    }

    /// <summary>Makes the graph a foreign one: its input passed through as the "logits".</summary>
    static void PassThrough(ModelProto p)
    {
        var input = p.Graph.Input[0];
        p.Graph.Node.Clear();
        p.Graph.Initializer.Clear();
        p.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "identity", Input = { input.Name }, Output = { OnnxExporter.OutputName } });
        p.Graph.Output.Clear();
        p.Graph.Output.Add(new ValueInfoProto { Name = OnnxExporter.OutputName, Type = input.Type.Clone() });
    }

    static void SetMetadata(ModelProto proto, string key, string value) => proto.MetadataProps.Single(p => p.Key == key).Value = value;

    static InvalidDataException Refused(string path)
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain("\n", e.Message);
        return e;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    public void ClassNamesThatDoNotMatchTheOutputWidthAreRefused(int names)
    {
        using var dir = new TempDir();
        string path = Write(dir, "names.onnx", p => SetMetadata(p, OnnxMetadata.Keys.ClassNames,
            System.Text.Json.JsonSerializer.Serialize(Enumerable.Range(0, names).Select(i => "n" + i))));
        var e = Refused(path);
        Assert.Contains($"{names} class names", e.Message);
        Assert.Contains("5 logits", e.Message);
    }

    [Fact]
    public void AnInputSizeOrChannelCountThatDiffersFromTheGraphIsRefused()
    {
        using var dir = new TempDir();
        var e = Refused(Write(dir, "size.onnx", p => SetMetadata(p, OnnxMetadata.Keys.InputSize, "32")));
        Assert.Contains("32", e.Message);
        Assert.Contains("64", e.Message);

        e = Refused(Write(dir, "channels.onnx", p =>
        {
            SetMetadata(p, OnnxMetadata.Keys.InputChannels, "1");
            SetMetadata(p, OnnxMetadata.Keys.Mean, "[0.5]");
            SetMetadata(p, OnnxMetadata.Keys.Std, "[0.25]");
        }));
        Assert.Contains("1 input channel", e.Message);
        Assert.Contains("3", e.Message);
    }

    [Fact]
    public void AnOutputThatIsNotOneRowOfLogitsPerImageIsRefused()
    {
        using var dir = new TempDir();
        // A foreign graph: the input passed through, so the "logits" are N x 3 x 64 x 64.
        string path = Write(dir, "foreign.onnx", PassThrough);
        var e = Refused(path);
        Assert.Contains("[batch, classes]", e.Message);
    }

    [Fact]
    public void AGraphThatDeclaresItsOutputWidthSymbolicIsStillChecked()
    {
        using var dir = new TempDir();
        string path = Write(dir, "symbolic.onnx", p =>
        {
            var dims = p.Graph.Output[0].Type.TensorType.Shape.Dim;
            dims[1] = new TensorShapeProto.Types.Dimension { DimParam = "classes" };
            SetMetadata(p, OnnxMetadata.Keys.ClassNames, "[\"a\",\"b\"]");
        });
        // ONNX Runtime infers the width (5) from the graph; where it could not, Run checks the first batch's shape.
        var e = Refused(path);
        Assert.Contains("5 logits", e.Message);
        Assert.Contains("2 class names", e.Message);
    }

    [Fact]
    public void TooManyOrTooLongClassNamesAreRefused()
    {
        using var dir = new TempDir();
        var e = Refused(Write(dir, "long.onnx", p => SetMetadata(p, OnnxMetadata.Keys.ClassNames,
            System.Text.Json.JsonSerializer.Serialize(new[] { "a", "b", "c", "d", new string('x', 100_000) }))));
        Assert.Contains(OnnxMetadata.Keys.ClassNames, e.Message);
    }

    [Fact]
    public void AnInputThatIsNotFloatImagesIsRefused()
    {
        using var dir = new TempDir();
        var e = Refused(Write(dir, "int.onnx", p =>
        {
            p.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Int64;
            PassThrough(p);
        }));
        Assert.Contains("float", e.Message);
    }

    [Theory]
    [InlineData(OnnxMetadata.Keys.InputSize, "100000")]
    [InlineData(OnnxMetadata.Keys.InputSize, "2147483647")]
    [InlineData(OnnxMetadata.Keys.InputChannels, "100000")]
    [InlineData(OnnxMetadata.Keys.Model, "\u001b[2JEvil")]
    [InlineData(OnnxMetadata.Keys.Model, "")]
    [InlineData(OnnxMetadata.Keys.Model, "Cifar\u200EX")]
    [InlineData(OnnxMetadata.Keys.Model, "   ")]
    [InlineData(OnnxMetadata.Keys.ClassNames, "[\"a\",\" \",\"b\",\"c\",\"d\"]")]
    [InlineData(OnnxMetadata.Keys.ClassNames, "[\"a\",\"a\",\"b\",\"c\",\"d\"]")]
    [InlineData(OnnxMetadata.Keys.ClassNames, "[\"a\",\"\",\"b\",\"c\",\"d\"]")]
    public void UnboundedOrUnprintableMetadataIsRefusedNamingItsKey(string key, string value)
    {
        using var dir = new TempDir();
        var e = Refused(Write(dir, "refused.onnx", p => SetMetadata(p, key, value)));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void AnOverlongModelNameIsRefused()
    {
        using var dir = new TempDir();
        Refused(Write(dir, "long.onnx", p => SetMetadata(p, OnnxMetadata.Keys.Model, new string('m', 5000))));
    }

    [Fact]
    public void AStdTooSmallToDivideByIsRefused()
    {
        using var dir = new TempDir();
        var e = Refused(Write(dir, "tiny-std.onnx", p => SetMetadata(p, OnnxMetadata.Keys.Std, "[1e-45,1e-45,1e-45]")));
        Assert.Contains("std", e.Message);
    }
}

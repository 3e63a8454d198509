using System.Text.Json;
using ArchGen.App.Tests;
using ArchGen.Onnx.Export;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Tests;

/// <summary>The README's Deploy example, as a user pastes it: plain ONNX Runtime, no ArchGen, metadata for the preprocessing.</summary>
public class DeployExampleTests
{
    [Fact]
    public void TheReadmesOnnxRuntimeExampleClassifiesLikeTheModel()
    {
        using var dir = new TempDir();
        var (entry, model, metadata) = ExportTests.Prepare("CifarW05OneChannelAt28C5");
        string path = dir["model.onnx"];
        var pixels = new byte[28 * 28];
        new Random(5).NextBytes(pixels);
        long expected;
        using (model)
        {
            OnnxExporter.Save(entry, model, metadata, path);
            using var noGrad = torch.no_grad();
            using var x = (torch.tensor(pixels.Select(p => (float)p).ToArray(), new long[] { 1, 1, 28, 28 }) / 255f - 0.5f) / 0.25f;
            using var logits = model.forward(x);
            expected = logits.argmax(1).item<long>();
        }

        // --- the README's example, with `pixels` as the user's image (one gray channel here) ---
        using var session = new InferenceSession(path);
        var meta = session.ModelMetadata.CustomMetadataMap;
        var classes = JsonSerializer.Deserialize<string[]>(meta["archgen.class_names"])!;
        var mean = JsonSerializer.Deserialize<float[]>(meta["archgen.mean"])!;
        var std = JsonSerializer.Deserialize<float[]>(meta["archgen.std"])!;
        int size = int.Parse(meta["archgen.input_size"]);
        var input = new DenseTensor<float>(new[] { 1, mean.Length, size, size });
        for (int c = 0; c < mean.Length; c++)
            for (int i = 0; i < size * size; i++)
                input[0, c, i / size, i % size] = (pixels[(c * size * size) + i] / 255f - mean[c]) / std[c];
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
        var scores = results.First().AsEnumerable<float>().ToArray();
        string label = classes[Array.IndexOf(scores, scores.Max())];
        // ---

        Assert.Equal("class " + expected, label);
    }
}

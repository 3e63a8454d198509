using System.Text.Json;

namespace ArchGen.App.Tests;

/// <summary>Shipping a trained model: export to ONNX, then evaluate and classify with ONNX Runtime through the same commands.</summary>
public class DeployTests
{
    static readonly string[] Quick = ["--device", "cpu", "--threads", "2"];

    /// <summary>One value per JSON line of <c>predict --json</c>'s output.</summary>
    static T[] JsonLines<T>(string output, Func<JsonElement, T> select) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{'))
            .Select(l =>
            {
                using var json = JsonDocument.Parse(l);
                return select(json.RootElement);
            })
            .ToArray();

    static string[] Top1(string output) =>
        JsonLines(output, e => $"{Path.GetFileName(e.GetProperty("path").GetString())}={e.GetProperty("label").GetString()}");

    static double[] Probabilities(string output) => JsonLines(output, e => e.GetProperty("probability").GetDouble());

    [Fact]
    public void AnExportedOnnxModelTestsAndPredictsAsItsCheckpointDoes()
    {
        using var dir = new TempDir();
        string photos = PhotoFolderTests.WritePhotos(dir["photos"], train: 4, test: 3);
        var train = AppProcess.Run(dir.Path, ["train", "--model", "CifarMobileNetV2", "--dataset", "folder", "--data", photos, "--epochs", "2", "--batch-size", "4", "--flip-tta", "--out", "run", .. Quick]);
        Assert.True(train.ExitCode == 0, train.Out + train.Err);

        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", "model.onnx");
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        Assert.Contains("Exported CifarMobileNetV2 from", export.Out);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));

        // The same accuracy on the same test split, read from the checkpoint and from the ONNX model.
        var fromCheckpoint = AppProcess.Run(dir.Path, ["test", "--checkpoint", "run", "--dataset", "folder", "--data", photos, .. Quick]);
        var fromOnnx = AppProcess.Run(dir.Path, ["test", "--checkpoint", "model.onnx", "--dataset", "folder", "--data", photos, .. Quick]);
        Assert.True(fromCheckpoint.ExitCode == 0, fromCheckpoint.Out + fromCheckpoint.Err);
        Assert.True(fromOnnx.ExitCode == 0, fromOnnx.Out + fromOnnx.Err);
        string Accuracy(string output) => output.Split('\n').Single(l => l.StartsWith("Accuracy of the network", StringComparison.Ordinal));
        Assert.Equal(Accuracy(fromCheckpoint.Out), Accuracy(fromOnnx.Out));
        Assert.Contains("model.onnx", fromOnnx.Out);
        // The run evaluated with flip TTA; the ONNX model records it, so both evaluate as the run did.
        Assert.Contains("(flip test-time augmentation)", fromCheckpoint.Out);
        Assert.Contains("(flip test-time augmentation)", fromOnnx.Out);

        // predict reads the class names and the preprocessing from the ONNX model's metadata.
        string test = Path.Combine(photos, "test");
        var expected = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "run", "--json", test, .. Quick]);
        var actual = AppProcess.Run(dir.Path, ["predict", "--model-file", "model.onnx", "--json", test, .. Quick]);
        Assert.True(actual.ExitCode == 0, actual.Out + actual.Err);
        Assert.Equal(9, Top1(actual.Out).Length);
        Assert.Equal(Top1(expected.Out), Top1(actual.Out));
        Assert.Contains("\"label\":\"coffee\"", actual.Out.Replace(" ", ""), StringComparison.Ordinal); // class names came along

        // predict evaluates as test does: the mirror image's logits averaged in, unless told otherwise.
        var (withFlip, fromCheckpointWithFlip) = (Probabilities(actual.Out), Probabilities(expected.Out));
        Assert.All(withFlip.Zip(fromCheckpointWithFlip), p => Assert.True(Math.Abs(p.First - p.Second) < 1e-4, $"{p.First} vs {p.Second}"));
        var plain = AppProcess.Run(dir.Path, ["predict", "--model-file", "model.onnx", "--json", "--flip-tta", "false", test, .. Quick]);
        Assert.True(plain.ExitCode == 0, plain.Out + plain.Err);
        Assert.NotEqual(withFlip, Probabilities(plain.Out));
    }

    /// <summary>
    /// A fine-tuned model (3 classes where the catalog's has 10) exported as weights is read back by every command
    /// (issue 24, item 7): a safetensors export carries its model, class names and normalization; a .pt file is read
    /// with --model, its class count taken from its classifier's shape, and refused without --model.
    /// </summary>
    [Fact]
    public void FineTunedWeightsExportsReadBackEverywhere()
    {
        using var dir = new TempDir();
        string photos = PhotoFolderTests.WritePhotos(dir["photos"], train: 4, test: 3);
        var train = AppProcess.Run(dir.Path, ["train", "--model", "CifarMobileNetV2", "--dataset", "folder", "--data", photos, "--epochs", "1", "--batch-size", "4", "--out", "run", .. Quick]);
        Assert.True(train.ExitCode == 0, train.Out + train.Err);
        string test = Path.Combine(photos, "test");
        var expected = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "run", "--json", test, .. Quick]);
        Assert.True(expected.ExitCode == 0, expected.Out + expected.Err);

        foreach (var file in new[] { "model.safetensors", "model.pt" })
        {
            var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", file);
            Assert.True(export.ExitCode == 0, export.Out + export.Err);
        }

        // safetensors: no --model needed; the class names and the run's statistics came along.
        var fromSafetensors = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "model.safetensors", "--json", test, .. Quick]);
        Assert.True(fromSafetensors.ExitCode == 0, fromSafetensors.Out + fromSafetensors.Err);
        Assert.Equal(Top1(expected.Out), Top1(fromSafetensors.Out));
        Assert.All(Probabilities(fromSafetensors.Out).Zip(Probabilities(expected.Out)), p => Assert.True(Math.Abs(p.First - p.Second) < 1e-5, $"{p.First} vs {p.Second}"));
        var tested = AppProcess.Run(dir.Path, ["test", "--checkpoint", "model.safetensors", "--dataset", "folder", "--data", photos, .. Quick]);
        Assert.True(tested.ExitCode == 0, tested.Out + tested.Err);
        var onnx = AppProcess.Run(dir.Path, "export", "--checkpoint", "model.safetensors", "--to", "again.onnx");
        Assert.True(onnx.ExitCode == 0, onnx.Out + onnx.Err);
        var imported = AppProcess.Run(dir.Path, "import", "--from", "model.safetensors", "--out", "imported.ckpt");
        Assert.True(imported.ExitCode == 0, imported.Out + imported.Err);
        var fromImport = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "imported.ckpt", "--json", test, .. Quick]);
        Assert.Equal(Top1(expected.Out), Top1(fromImport.Out));

        // .pt: refused without --model (it does not say which model it holds); with it, 3 classes from the classifier's shape.
        var refused = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "model.pt", "--json", test, .. Quick]);
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");
        EndToEndTests.AssertOneLineError(refused.Err);
        Assert.Contains("--model", refused.Err);
        var fromPt = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "model.pt", "--model", "CifarMobileNetV2", "--json", test, .. Quick]);
        Assert.True(fromPt.ExitCode == 0, fromPt.Out + fromPt.Err);
        Assert.Equal(9, Top1(fromPt.Out).Length);
    }

    [Theory]
    [InlineData("MobileNetV3Small")]
    [InlineData("EfficientNetB0")]
    public void TheFamiliesTrainTestAndExport(string model)
    {
        using var dir = new TempDir();
        var train = AppProcess.Run(dir.Path, ["train", "--model", model, "--dataset", "synthetic", "--epochs", "1", "--limit", "8", "--test-limit", "4", "--batch-size", "4", "--out", "run", .. Quick]);
        Assert.True(train.ExitCode == 0, train.Out + train.Err);
        Assert.Contains("Accuracy of the network on the 4 test images:", train.Out);

        var test = AppProcess.Run(dir.Path, ["test", "--checkpoint", "run", "--test-limit", "4", .. Quick]);
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        foreach (var target in new[] { "model.pt", "model.onnx" })
        {
            var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", target);
            Assert.True(export.ExitCode == 0, export.Out + export.Err);
        }

        var onnx = AppProcess.Run(dir.Path, ["test", "--checkpoint", "model.onnx", "--dataset", "synthetic", "--test-limit", "4", .. Quick]);
        Assert.True(onnx.ExitCode == 0, onnx.Out + onnx.Err);
        string Accuracy(string output) => output.Split('\n').Single(l => l.StartsWith("Accuracy of the network", StringComparison.Ordinal));
        Assert.Equal(Accuracy(test.Out), Accuracy(onnx.Out));
    }

    [Fact]
    public void OnnxMistakesAreOneLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["not.onnx"], "not a model");
        var predict = AppProcess.Run(dir.Path, "predict", "--checkpoint", "not.onnx", dir.Path);
        Assert.Equal(1, predict.ExitCode);
        Assert.Contains("not.onnx", predict.Err);
        Assert.Single(predict.Err.Trim().Split('\n'));

        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "not.onnx", "--to", "again.onnx");
        Assert.Equal(2, export.ExitCode);
        Assert.Contains("already an ONNX model", export.Err);
    }
}

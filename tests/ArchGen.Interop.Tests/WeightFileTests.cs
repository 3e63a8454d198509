using ArchGen.App.Tests;
using ArchGen.Interop;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ArchGen.Interop.Tests;

/// <summary>Strict loading, saving back to .pt and safetensors, and the app's import/export round trip.</summary>
public class WeightFileTests
{
    const string Cifar = "cifar_32_c10";

    [Fact]
    public void MissingUnexpectedAndMisshapenKeysAreOneErrorListingThem()
    {
        using var dir = new TempDir();
        var state = PyTorchWeights.Read(ParityTests.Fixture(Cifar, "weights.pt"));
        state.Remove("layers.3.bn2.running_var");
        state["layers.99.conv1.weight"] = torch.zeros(1);
        state["linear.bias"] = torch.zeros(11);
        string path = dir["broken.pt"];
        PyTorchPickler.PickleStateDict(path, state);

        using var model = new Cifar3At32();
        var error = Assert.Throws<ArchGen.Data.DataException>(() => PyTorchWeights.Load(model, path));
        Assert.Contains("missing keys: layers.3.bn2.running_var", error.Message);
        Assert.Contains("unexpected keys: layers.99.conv1.weight", error.Message);
        Assert.Contains("linear.bias (file [11], model [10])", error.Message);
    }

    [Fact]
    public void AFileThatIsNotAStateDictIsAClearError()
    {
        using var dir = new TempDir();
        string path = dir["noise.pt"];
        File.WriteAllBytes(path, new byte[] { 1, 2, 3, 4, 5 });
        using var model = new Cifar3At32();
        var error = Assert.Throws<ArchGen.Data.DataException>(() => PyTorchWeights.Load(model, path));
        Assert.Contains("noise.pt", error.Message);
    }

    [Theory]
    [InlineData("weights.pt")]
    [InlineData("weights.safetensors")]
    public void SavedWeightsReadBackBitForBit(string name)
    {
        using var dir = new TempDir();
        using var model = new Cifar3At32();
        PyTorchWeights.Load(model, ParityTests.Fixture(Cifar, "weights.pt"));
        PyTorchWeights.Save(model, dir[name]);
        AssertSameTensors(ParityTests.Fixture(Cifar, "weights.pt"), dir[name]);

        using var again = new Cifar3At32();
        PyTorchWeights.Load(again, dir[name]);
        foreach (var (key, tensor) in again.state_dict())
            Assert.True(tensor.equal(model.state_dict()[key]).all().item<bool>(), key);
    }

    [Fact]
    public void AppImportsAFixtureAndExportsItBackBitForBit()
    {
        using var dir = new TempDir();
        string original = ParityTests.Fixture(Cifar, "weights.pt");
        var import = AppProcess.Run(dir.Path, "import", "--model", "CifarMobileNetV2", "--from", original, "--out", "imported.ckpt");
        Assert.True(import.ExitCode == 0, import.Out + import.Err);

        foreach (string target in new[] { "exported.pt", "exported.safetensors" })
        {
            var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "imported.ckpt", "--to", target);
            Assert.True(export.ExitCode == 0, export.Out + export.Err);
            AssertSameTensors(original, dir[target]);
        }

        // test takes a PyTorch file directly.
        var test = AppProcess.Run(dir.Path, "test", "--model", "CifarMobileNetV2", "--checkpoint", original, "--dataset", "synthetic", "--test-limit", "16", "--device", "cpu");
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        Assert.Contains("Accuracy of the network on the 16 test images:", test.Out);

        // Weights of another architecture are refused with the key list, not loaded halfway.
        var wrongModel = AppProcess.Run(dir.Path, "import", "--model", "MobileNetV2", "--from", original, "--out", "x.ckpt");
        Assert.Equal(1, wrongModel.ExitCode);
        Assert.Contains("does not fit the model", wrongModel.Err);
    }

    static void AssertSameTensors(string expectedPath, string actualPath)
    {
        var expected = PyTorchWeights.Read(expectedPath);
        var actual = PyTorchWeights.Read(actualPath);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected)
        {
            Assert.Equal(tensor.dtype, actual[key].dtype);
            Assert.True(tensor.equal(actual[key]).all().item<bool>(), $"{key} differs");
        }
    }
}

/// <summary>
/// PyTorch itself accepts what we export. Needs Debian's python3-torch: skipped without it, except where
/// <c>ARCHGEN_REQUIRE_PYTORCH=1</c> (CI installs it and sets that), where its absence fails the test.
/// </summary>
public class PyTorchAcceptsExportsTests
{
    [SkippableFact]
    public void LoadStateDictStrictAcceptsAnExportedFile()
    {
        Toolchain.RequirePyTorch();
        using var dir = new TempDir();
        foreach (var (fixture, model, build) in new[]
                 {
                     ("cifar_32_c10", (nn.Module)new Cifar3At32(), "from cifar_mobilenetv2 import MobileNetV2; m = MobileNetV2(num_classes=10)"),
                     ("paper_w0.5_160_c10", new PaperW05At160(), "import torchvision; m = torchvision.models.mobilenet_v2(width_mult=0.5, num_classes=10)"),
                     ("v3_small_w0.5_96_c7", new V3SmallW05At96C7(), "import counts, families; m = families.build(next(c for c in counts.CONFIGS if c.name == 'V3SmallW05At96C7'))"),
                     ("effnet_custom_1ch_48_c6", new EffCustom1ChAt48C6(), "import counts, families; m = families.build(next(c for c in counts.CONFIGS if c.name == 'EffCustom1ChAt48C6'))"),
                 })
        {
            using (model)
            {
                PyTorchWeights.Load(model, ParityTests.Fixture(fixture, "weights.pt"));
                string path = dir[fixture + ".pt"];
                PyTorchWeights.Save(model, path);
                string script = $"import sys, torch; sys.path.insert(0, {Py(Path.Combine(AppProcess.RepositoryRoot, "tools", "reference"))}); {build}; " +
                                $"m.load_state_dict(torch.load({Py(path)}), strict=True); print('strict load ok')";
                var (code, output) = RunPython(script);
                Assert.True(code == 0 && output.Contains("strict load ok"), $"{fixture}: {output}");
            }
        }
    }

    static string Py(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    static (int Code, string Output) RunPython(string script) => Toolchain.Run("/usr/bin/python3", Path.GetTempPath(), "-c", script);
}

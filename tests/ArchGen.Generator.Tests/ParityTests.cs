using ArchGen.Generator.Tests.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>
/// PyTorch weights load into the generated models with no key map (strict), and the logits match PyTorch's.
/// The PyTorch side is written by Expected/make_parity.py (torchvision mobilenet_v2 and the kuangliu model, small tables).
/// </summary>
[Trait("Category", "Parity")]
public class ParityTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Expected", "parity", name);

    [Theory]
    [InlineData(typeof(TinyPaperNet), "tiny_paper", 71_175L)]
    [InlineData(typeof(TinyCifarNet), "tiny_cifar", 78_797L)]
    public void PyTorchWeightsLoadStrictlyAndGiveTheSameLogits(Type type, string name, long pytorchParameters)
    {
        Assert.Equal(pytorchParameters, (long)type.GetField("ParameterCount")!.GetValue(null)!);
        using var model = (nn.Module<Tensor, Tensor>)Activator.CreateInstance(type)!;
        var loaded = new Dictionary<string, bool>();
        model.load_py(File(name + ".weights.pt"), strict: true, loadedParameters: loaded);
        Assert.Equal(model.state_dict().Count, loaded.Count);
        Assert.All(loaded, kv => Assert.True(kv.Value, kv.Key));

        var io = PyTorchUnpickler.UnpickleStateDict(File(name + ".io.pt"));
        using var input = (Tensor)io["input"]!;
        using var expected = (Tensor)io["logits"]!;
        model.eval();
        using (torch.no_grad())
        {
            using var actual = model.forward(input);
            using var diff = (actual - expected).abs().max();
            Assert.True(diff.item<float>() < 1e-4, $"logits differ from PyTorch's by {diff.item<float>()}");
        }

        using var fused = (nn.Module<Tensor, Tensor>)type.GetMethod("Fuse")!.Invoke(model, null)!;
        using var fusedLogits = fused.forward(input);
        using var fusedDiff = (fusedLogits - expected).abs().max();
        Assert.True(fusedDiff.item<float>() < 1e-4, $"fused logits differ from PyTorch's by {fusedDiff.item<float>()}");
    }
}

using System.Runtime.InteropServices;
using System.Text.Json;
using ArchGen.App.Tests;
using ArchGen.Blocks;
using ArchGen.Interop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ArchGen.Interop.Tests;

/// <summary>
/// Float32 logits and every parameter's gradient, as the models run on this machine (the verified memory layouts),
/// against PyTorch computing the same model in float64 (tools/reference/grad_parity.py): eval-mode BatchNorm on
/// randomized statistics, so the problem is well conditioned, and loss = sum(logits x R) for a fixed random R, so every
/// logit's gradient counts. Bounds: logits within max(1e-4, 20x PyTorch's own float32 error), each gradient within
/// max(1e-4, 20x PyTorch's float32 relative L2 error for it). The five catalog models (with the Fashion-MNIST form of
/// the exercise's network) and six other configurations of the three families, at batch sizes 1, 2, 5 and 8: the sizes
/// at which LibTorch's channels-last kernels were found wrong on AVX-512 machines (docs/upstream/channels-last.md),
/// where the one-step SGD fixtures, in float64, could not see it.
/// </summary>
[Trait("Category", "Parity")]
public class GradientParityTests(ITestOutputHelper output)
{
    static readonly int[] BatchSizes = [1, 2, 5, 8];

    /// <summary>Model name, its PyTorch counterpart (grad_parity.py's spec), input channels and size.</summary>
    public static TheoryData<string> Models => new()
    {
        "CifarMobileNetV2", "FashionMnistMobileNetV2", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "EfficientNetB0",
        "PaperW05At160", "Cifar1At32", "V3SmallW05At96C7", "V3Custom1ChAt80C9", "B0W05D05At64C5", "EffCustom1ChAt48C6",
    };

    static object Spec(string name, int classes) => name switch
    {
        "CifarMobileNetV2" or "Cifar1At32" or "FashionMnistMobileNetV2" => new { kind = "cifar", in_channels = name == "CifarMobileNetV2" ? 3 : 1, classes },
        "MobileNetV2" => new { kind = "mobilenet_v2", width = 1.0, classes },
        "PaperW05At160" => new { kind = "mobilenet_v2", width = 0.5, classes },
        "MobileNetV3Large" => new { kind = "config", name = "V3Large", classes },
        "MobileNetV3Small" => new { kind = "config", name = "V3Small", classes },
        "EfficientNetB0" => new { kind = "config", name = "B0", classes },
        _ => new { kind = "config", name, classes },
    };

    [SkippableTheory]
    [MemberData(nameof(Models))]
    public void LogitsAndEveryGradientMatchPyTorchInFloat64(string name)
    {
        Toolchain.RequirePyTorch();
        using var scope = torch.NewDisposeScope();
        torch.set_num_threads(2);
        var entry = ModelCatalog.Get(name);
        var facts = entry.Facts;
        using var random = new Generator(0xA11CE);
        using var model = entry.Create();
        RandomizeBatchNorm(model, random);
        model.eval();

        using var dir = new TempDir();
        PyTorchWeights.Save(model, dir["weights.pt"]);
        var cases = new List<object>();
        var inputs = new Dictionary<int, (Tensor X, Tensor R)>();
        foreach (int n in BatchSizes)
        {
            var x = torch.randn([n, facts.InputChannels, facts.InputSize, facts.InputSize], generator: random);
            var r = torch.randn([n, facts.Classes], generator: random);
            WriteFloats(dir[$"x{n}.bin"], x);
            WriteFloats(dir[$"r{n}.bin"], r);
            inputs[n] = (x, r);
            cases.Add(new { batch = n, shape = new[] { facts.InputChannels, facts.InputSize, facts.InputSize }, input = dir[$"x{n}.bin"], cotangent = dir[$"r{n}.bin"], @out = dir[$"truth{n}.pt"] });
        }
        File.WriteAllText(dir["manifest.json"], JsonSerializer.Serialize(new { model = Spec(name, facts.Classes), weights = dir["weights.pt"], cases }));
        var (code, text) = Toolchain.Run("/usr/bin/python3", AppProcess.RepositoryRoot, "tools/reference/grad_parity.py", dir["manifest.json"]);
        Assert.True(code == 0, text);

        var failures = new List<string>();
        foreach (int n in BatchSizes)
        {
            var truth = PyTorchWeights.Read(dir[$"truth{n}.pt"]);
            var parameters = model.named_parameters().ToList();
            var logits = model.forward(inputs[n].X);
            var grads = torch.autograd.grad([(logits * inputs[n].R).sum()], parameters.Select(p => (Tensor)p.parameter).ToList());

            double logitError = MaxAbs(logits, truth["logits"]);
            double logitBound = Math.Max(1e-4, 20 * MaxAbs(truth["f32/logits"], truth["logits"]));
            if (!(logitError <= logitBound)) failures.Add($"batch {n}: max |Δlogit| {logitError:E2} > {logitBound:E2}");
            double worst = 0;
            string worstName = "";
            for (int i = 0; i < parameters.Count; i++)
            {
                string key = "grad/" + parameters[i].name;
                double error = Relative(grads[i], truth[key]), bound = Math.Max(1e-4, 20 * Relative(truth["f32/" + key], truth[key]));
                if (!(error <= bound)) failures.Add($"batch {n}: {parameters[i].name} gradient off by {error:E2} relative L2 > {bound:E2}");
                if (error / bound > worst) (worst, worstName) = (error / bound, parameters[i].name);
            }
            output.WriteLine($"{name} batch {n}: max |Δlogit| {logitError:E2} (allowed {logitBound:E2}); worst gradient at {worst:F3} of its bound ({worstName})");
            foreach (var t in truth.Values) t.Dispose();
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {BatchSizes.Length * (model.parameters().Count() + 1)} checks fail:\n" + string.Join("\n", failures.Take(20)));
    }

    /// <summary>BatchNorm running statistics and affine parameters away from their fresh values, so that eval mode is not the identity.</summary>
    static void RandomizeBatchNorm(nn.Module model, Generator random)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not TorchSharp.Modules.BatchNorm2d bn) continue;
            long c = bn.weight!.shape[0];
            bn.running_mean!.copy_(torch.randn(c, generator: random) * 0.1);
            bn.running_var!.copy_(torch.rand(c, generator: random) + 0.5);
            bn.weight.copy_(torch.rand(c, generator: random) + 0.5);
            bn.bias!.copy_(torch.randn(c, generator: random) * 0.1);
        }
    }

    static void WriteFloats(string path, Tensor t)
    {
        var data = t.contiguous().data<float>().ToArray();
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    static double MaxAbs(Tensor a, Tensor b)
    {
        double value = (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();
        return double.IsNaN(value) ? double.PositiveInfinity : value;
    }

    static double Relative(Tensor a, Tensor b)
    {
        var b64 = b.to_type(ScalarType.Float64);
        double reference = b64.norm().item<double>(), difference = (a.to_type(ScalarType.Float64) - b64).norm().item<double>();
        return difference == 0 ? 0 : reference == 0 || double.IsNaN(difference) ? double.PositiveInfinity : difference / reference;
    }
}

using System.Runtime.CompilerServices;
using ArchGen.Interop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ArchGen.Interop.Tests;

/// <summary>
/// The generated models against PyTorch itself: weights, inputs and outputs written by
/// tools/reference/make_fixtures.py from torchvision's mobilenet_v2, mobilenetv3 and efficientnet, and the reference
/// exercise's CIFAR MobileNetV2.
/// </summary>
[Trait("Category", "Parity")]
public class ParityTests(ITestOutputHelper output)
{
    public const double Tolerance = 1e-4;

    public static string Fixture(string name, string file, [CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "Fixtures", name, file);

    public static TheoryData<string> Fixtures => new()
    {
        "paper_w1.0_224_c10", "paper_w0.5_160_c10", "cifar_32_c10", "cifar_1ch_32_c10",
        "v3_small_w0.5_96_c7", "v3_custom_1ch_80_c9", "effnet_b0_w0.5_d0.5_64_c5", "effnet_custom_1ch_48_c6",
        "paper_small_nonlinear_w0.35_64_c5", "paper_small_noshortcut_w0.35_64_c5", "cifar_small_nonlinear_32_c10", "cifar_small_noshortcut_32_c10",
        "paper_small_expansion_w0.35_64_c5", "cifar_small_expansion_32_c10",
    };

    public static nn.Module<Tensor, Tensor> Create(string fixture) => fixture switch
    {
        "paper_w1.0_224_c10" => new PaperW10At224(),
        "paper_w0.5_160_c10" => new PaperW05At160(),
        "cifar_32_c10" => new Cifar3At32(),
        "cifar_1ch_32_c10" => new Cifar1At32(),
        "v3_small_w0.5_96_c7" => new V3SmallW05At96C7(),
        "v3_custom_1ch_80_c9" => new V3Custom1ChAt80C9(),
        "effnet_b0_w0.5_d0.5_64_c5" => new B0W05D05At64C5(),
        "effnet_custom_1ch_48_c6" => new EffCustom1ChAt48C6(),
        "paper_small_nonlinear_w0.35_64_c5" => new PaperSmallNonLinear(),
        "paper_small_noshortcut_w0.35_64_c5" => new PaperSmallNoShortcut(),
        "cifar_small_nonlinear_32_c10" => new CifarSmallNonLinear(),
        "cifar_small_noshortcut_32_c10" => new CifarSmallNoShortcut(),
        "paper_small_expansion_w0.35_64_c5" => new PaperSmallExpansionShortcut(),
        "cifar_small_expansion_32_c10" => new CifarSmallExpansionShortcut(),
        _ => throw new ArgumentOutOfRangeException(nameof(fixture)),
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void EvalLogitsMatchPyTorch(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        torch.set_num_threads(2);
        using var model = Create(fixture);
        PyTorchWeights.Load(model, Fixture(fixture, "weights.pt"));
        var io = PyTorchWeights.Read(Fixture(fixture, "io.pt"));
        model.eval();
        using var noGrad = torch.no_grad();
        var logits = model.forward(io["input"]);
        double delta = (logits - io["logits_eval"]).abs().max().item<float>();
        output.WriteLine($"{fixture}: max |Δlogit| = {delta:E3} (logits up to {io["logits_eval"].abs().max().item<float>():F3})");
        Assert.True(delta <= Tolerance, $"{fixture}: max |Δlogit| {delta:E3} > {Tolerance}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void OneSgdStepMovesTheWeightsToPyTorchs(string fixture)
    {
        using var scope = torch.NewDisposeScope();
        torch.set_num_threads(2);
        using var model = Create(fixture);
        PyTorchWeights.Load(model, Fixture(fixture, "weights.pt"));
        var io = PyTorchWeights.Read(Fixture(fixture, "io.pt"));
        var expected = PyTorchWeights.Read(Fixture(fixture, "after_step.pt"));

        // As the fixture: the step runs in float64, where it is well conditioned (see tools/reference/make_fixtures.py).
        model.to(ScalarType.Float64);
        model.train();
        foreach (var (_, module) in model.named_modules())
            if (module is TorchSharp.Modules.Dropout or ArchGen.Blocks.StochasticDepth) module.eval(); // as the fixture: dropout and drop-path off, BatchNorm in train mode
        using var sgd = optim.SGD(model.parameters(), 0.1);
        sgd.zero_grad();
        var logits = model.forward(io["input"].to_type(ScalarType.Float64));
        var loss = nn.functional.cross_entropy(logits, io["labels"]);
        Assert.True((logits - io["logits_train"]).abs().max().item<double>() <= Tolerance, "train-mode logits differ");
        Assert.True(Math.Abs(loss.item<double>() - io["loss"].item<float>()) <= Tolerance, "loss differs");
        loss.backward();
        sgd.step();

        double worst = 0;
        string worstKey = "";
        foreach (var (key, actual) in model.state_dict())
        {
            var reference = expected[key];
            Assert.Equal(reference.shape, actual.shape);
            double delta = (actual.to_type(ScalarType.Float64) - reference.to_type(ScalarType.Float64)).abs().max().item<double>();
            if (delta > worst) (worst, worstKey) = (delta, key);
        }
        output.WriteLine($"{fixture}: max |Δ| after one step = {worst:E3} ({worstKey})");
        Assert.True(worst <= Tolerance, $"{fixture}: {worstKey} differs by {worst:E3} after one SGD step");
    }
}

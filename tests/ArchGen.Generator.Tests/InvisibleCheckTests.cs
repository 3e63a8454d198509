using ArchGen.Generator.Tests.Models;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>
/// What a model's first forward of a new input shape must not show, whatever checks it runs to choose its kernels: its
/// hooks fire once with the caller's data, other threads sharing it compute with its own weights, and torch's global
/// random generator is left as it was.
/// </summary>
[Trait("Category", "Parity")]
public class InvisibleCheckTests
{
    /// <summary>
    /// The first forward of a shape (eval, no-grad, and training) fires every convolution's forward hook exactly once,
    /// with the forward's own data: the stem's hook sees the very input passed in (the check that runs on that call
    /// runs on tensors of its own).
    /// </summary>
    [Theory]
    [InlineData("TinyCifarNet", false)]
    [InlineData("TinyCifarNet", true)]
    [InlineData("V3SmallW05At96C7", false)]
    [InlineData("B0W05D05At64C5", true)]
    public void HooksFireOncePerForwardWithTheUsersDataEvenOnANewShapesFirstCall(string name, bool training)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        model.train(training);
        var convolutions = model.named_modules().Where(m => m.module is TorchSharp.Modules.Convolution).Select(m => (Name: m.name, Conv: (TorchSharp.Modules.Convolution)m.module)).ToList();
        var calls = convolutions.ToDictionary(c => c.Name, _ => 0);
        Tensor? stemInput = null;
        var hooks = new List<Action>();
        foreach (var (conv, i) in convolutions.Select((c, i) => (c, i)))
        {
            var handle = conv.Conv.register_forward_hook((_, input, _) =>
            {
                calls[conv.Name]++;
                if (i == 0) stemInput = input.detach().clone();
                return null!;
            });
            hooks.Add(handle.remove);
        }
        var f = entry.Facts;
        int batch = 7; // a batch size no other test uses: the verdicts are checked on this call
        using var x = torch.randn(batch, f.InputChannels, f.InputSize, f.InputSize);
        long checks = VerifiedLayout.ChecksRunOnThisThread;
        using (VerdictStore.Ignore())
        using (var grad = training ? torch.enable_grad() : torch.no_grad())
        using (var logits = model.forward(x))
        {
            if (training) logits.sum().backward();
        }
        foreach (var remove in hooks) remove();
        Assert.True(VerifiedLayout.ChecksRunOnThisThread > checks, "no check ran on this forward");

        Assert.All(calls, c => Assert.True(c.Value == 1, $"{c.Key}'s hook fired {c.Value} times in one forward"));
        Assert.NotNull(stemInput);
        Assert.True(stemInput.equal(x).all().item<bool>(), "the stem's hook did not see the input passed in");
    }

    /// <summary>
    /// One model shared by two threads in eval mode: one repeats a batch of 4 while the other brings new batch sizes
    /// (each new shape runs the checks). Every answer equals a twin model's (the same weights) run alone.
    /// </summary>
    [Theory]
    [InlineData("TinyCifarNet", 16)]
    [InlineData("V3SmallW05At96C7", 48)]
    public void AModelSharedByThreadsAlwaysComputesWithItsOwnWeights(string name, int size)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        using var twin = entry.Create();
        twin.load_state_dict(model.state_dict());
        model.eval();
        twin.eval();
        var f = entry.Facts;
        using var repeated = torch.randn(4, f.InputChannels, size, size);
        var sizes = Enumerable.Range(11, 10).ToArray(); // batch sizes no other test meets
        var inputs = sizes.Select(n => torch.randn(n, f.InputChannels, size, size)).ToArray();

        using var fresh = VerdictStore.Ignore(); // the new shapes are checked on the threads, not read from the store
        var answersA = new List<Tensor>();
        var answersB = new Tensor[sizes.Length];
        using var go = new ManualResetEventSlim();
        bool done = false;
        var a = new Thread(() =>
        {
            using var noGrad = torch.no_grad();
            go.Wait();
            while (!Volatile.Read(ref done)) answersA.Add(model.forward(repeated));
        });
        var b = new Thread(() =>
        {
            using var noGrad = torch.no_grad();
            go.Wait();
            for (int i = 0; i < inputs.Length; i++) answersB[i] = model.forward(inputs[i]);
            Volatile.Write(ref done, true);
        });
        a.Start();
        b.Start();
        go.Set();
        Assert.True(b.Join(TimeSpan.FromMinutes(5)) && a.Join(TimeSpan.FromMinutes(1)), "the threads did not finish");

        using var noGrad = torch.no_grad();
        using var expectedA = twin.forward(repeated);
        Assert.NotEmpty(answersA);
        foreach (var answer in answersA) Assert.True(Exactness.MaxAbsError(answer, expectedA) <= 1e-5, "a repeated batch's answer changed while the other thread met new shapes");
        for (int i = 0; i < inputs.Length; i++)
        {
            using var expected = twin.forward(inputs[i]);
            Assert.True(Exactness.MaxAbsError(answersB[i], expected) <= 1e-5, $"batch {sizes[i]}'s answer differs from the twin's");
        }
    }
}

/// <summary>The check and torch's global random generator: in the collection that runs alone, as other tests draw from the generator.</summary>
[Collection(TorchGlobalGeneratorCollection.Name)]
[Trait("Category", "Parity")]
public class InvisibleCheckRandomTests
{
    /// <summary>A forward that runs checks (new shapes, training and inference) leaves torch's global random generator exactly as it was.</summary>
    [Fact]
    public void TheCheckDoesNotTouchTheGlobalRandomGenerator()
    {
        using var model = new CifarNet(); // no dropout: the forward itself draws nothing
        using var x = torch.randn(6, 3, 32, 32);
        using var fresh = VerdictStore.Ignore();
        long checks = VerifiedLayout.ChecksRunOnThisThread;
        using var before = torch.random.get_rng_state();
        model.eval();
        using (torch.no_grad()) model.forward(x).Dispose();
        model.train();
        using (var loss = model.forward(x).sum()) loss.backward();
        using var after = torch.random.get_rng_state();
        Assert.True(before.equal(after).all().item<bool>(), "the global generator's state changed");
        Assert.True(VerifiedLayout.ChecksRunOnThisThread > checks, "no check ran");
    }
}

using System.Security.Cryptography;
using System.Text;
using ArchGen.Checkpoints;
using ArchGen.Data;
using ArchGen.Runtime.Tests.Data;
using ArchGen.Runtime.Tests.Fuzzing;
using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Checkpoints;

/// <summary>A checkpoint is trusted only after its checksum, and its weights only after their keys and shapes fit (issue 15).</summary>
/// <remarks>
/// In the memory-measuring collection, which runs alone: the fuzz test bounds the process's resident memory growth,
/// which tests running beside it (the convolution checks' float64 tensors among them) would add to.
/// </remarks>
[Collection(nameof(MemoryMeasurements))]
public class CheckpointTests
{
    /// <summary>A small model with every kind of state a generated one has: conv and linear weights, BatchNorm statistics and its int64 counter.</summary>
    internal static nn.Module<Tensor, Tensor> TinyModel()
    {
        torch.manual_seed(7);
        return nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("linear", nn.Linear(4, 3)));
    }

    /// <summary>A checkpoint of <see cref="TinyModel"/> after one Adam step, as bytes.</summary>
    internal static byte[] TinyCheckpoint(string folder, string modelName = "CifarMobileNetV2")
    {
        using var model = TinyModel();
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        using (var x = torch.randn(2, 3, 6, 6))
        using (var loss = model.forward(x).sum())
        {
            loss.backward();
            optimizer.step();
        }
        string path = Path.Combine(folder, "tiny.ckpt");
        var header = new CheckpointHeader(modelName, new TrainingPosition(1, 2, 3), new TrainConfig { Model = modelName }, "2025-01-01T00:00:00Z");
        Checkpoint.Save(path, header, model, optimizer);
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void AnEpochsRunningSumsFromBeforeTheTimeWasCarriedReadAsOfUnknownTime()
    {
        var old = System.Text.Json.JsonSerializer.Deserialize<TrainingPosition>(
            """{ "epoch": 3, "batch": 5, "globalStep": 29, "totals": { "lossSum": 1.5, "correct": 2, "seen": 40 } }""", TrainConfig.Json)!;
        Assert.Equal(new EpochTotals(1.5, 2, 40, Seconds: null), old.Totals);
        var now = new TrainingPosition(3, 5, 29, new EpochTotals(1.5, 2, 40, 12.25));
        Assert.Equal(now, System.Text.Json.JsonSerializer.Deserialize<TrainingPosition>(System.Text.Json.JsonSerializer.Serialize(now, TrainConfig.Json), TrainConfig.Json));
    }

    [Fact]
    public void OneFlippedByteInTheModelNameIsDamageNotAnUnknownModel()
    {
        using var dir = new TempDir();
        byte[] bytes = TinyCheckpoint(dir.Path);
        int at = bytes.AsSpan().IndexOf("CifarMobileNetV2"u8);
        Assert.True(at > 0);
        bytes[at + 3] ^= 0x02; // 'f' -> 'd'
        string path = dir.Sub("flipped.ckpt");
        File.WriteAllBytes(path, bytes);

        var error = Assert.ThrowsAny<Exception>(() => Checkpoint.ReadHeader(path));
        Assert.IsType<DataException>(error);
        Assert.Contains(path, error.Message);
        Assert.Contains("damaged", error.Message);
        Assert.DoesNotContain("CidarMobileNetV2", error.Message);
    }

    [Fact]
    public void ACheckpointRoundTripsAndItsSizeIsCheckedAgainstTheModelFirst()
    {
        using var dir = new TempDir();
        TinyCheckpoint(dir.Path);
        string path = dir.Sub("tiny.ckpt");
        using var model = TinyModel();
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        var header = Checkpoint.Load(path, model, optimizer, restoreRng: false);
        Assert.Equal(new TrainingPosition(1, 2, 3), header.Position);

        // Same keys, another shape: refused with the key named, before anything is read into the model.
        using var wider = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("linear", nn.Linear(4, 5)));
        var error = Assert.Throws<DataException>(() => Checkpoint.Load(path, wider, null, restoreRng: false));
        Assert.Contains("linear.weight (file [3,4]", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void AnOpenedCheckpointIsReadOnceAndLoadsWhatTheFileHolds()
    {
        using var dir = new TempDir();
        TinyCheckpoint(dir.Path);
        string path = dir.Sub("tiny.ckpt");
        using var expected = TinyModel();
        using var expectedOptimizer = optim.Adam(expected.parameters(), 0.01);
        Checkpoint.Load(path, expected, expectedOptimizer, restoreRng: false);

        using var model = TinyModel();
        using (torch.no_grad())
            foreach (var p in model.parameters()) p.zero_(); // so the comparison below sees what the load wrote
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        using (var checkpoint = Checkpoint.Open(path))
        {
            Assert.Equal(new TrainingPosition(1, 2, 3), checkpoint.Header.Position);
            // Replaced on disk after the open (as a new checkpoint is, by rename): the load reads what was verified.
            File.Move(path, dir.Sub("old.ckpt"));
            File.WriteAllBytes(path, [1, 2, 3]);
            Assert.Equal(checkpoint.Header, Checkpoint.Load(checkpoint, model, optimizer, restoreRng: false));
            var again = Assert.Throws<InvalidOperationException>(() => Checkpoint.Load(checkpoint, model, optimizer, restoreRng: false));
            Assert.Contains("already loaded", again.Message);
        }

        foreach (var (key, tensor) in expected.state_dict())
            Assert.True(tensor.eq(model.state_dict()[key]).all().item<bool>(), key);
    }

    [Fact]
    public void NotACheckpointAndNotAFileAreOneClearError()
    {
        using var dir = new TempDir();
        string text = dir.Sub("notes.ckpt");
        File.WriteAllText(text, "these are not weights, just a long enough line of text to pass the size check");
        var notOurs = Assert.Throws<DataException>(() => Checkpoint.ReadHeader(text));
        Assert.Contains("not an ArchGen checkpoint", notOurs.Message);

        string fifo = dir.Sub("pipe.ckpt");
        if (Mkfifo(fifo))
        {
            var pipe = Assert.Throws<DataException>(() => Checkpoint.ReadHeader(fifo));
            Assert.Contains("not a regular file", pipe.Message);
            Assert.Contains(fifo, pipe.Message);
        }
    }

    /// <summary>
    /// Thousands of damaged checkpoints: half with the stale checksum (every one must be "damaged" or "not a
    /// checkpoint"), half forged with a recomputed checksum, so the parser behind the checksum is fuzzed too. Each is
    /// loaded or refused with a <see cref="DataException"/> naming the file; nothing else, no large allocation.
    /// </summary>
    [Fact]
    public void FuzzedCheckpointsAreRefusedCleanly()
    {
        using var dir = new TempDir();
        byte[] original = TinyCheckpoint(dir.Path);
        string path = dir.Sub("fuzzed.ckpt");
        using var model = TinyModel();
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        var run = new FuzzRun<DataException>(path, allocationBoundPerFile: 4L * original.Length + (2 << 20), residentGrowthBound: 256L << 20);
        void Load(string p) => Checkpoint.Load(p, model, optimizer, restoreRng: false);

        int changed = 0;
        foreach (var (kind, bytes) in Mutations.Of(original, 1500, seed: 11))
        {
            run.Case(kind, bytes, Load);
            if (!bytes.AsSpan().SequenceEqual(original)) changed++;
        }
        Assert.Equal(changed, run.Refused); // the checksum catches every change to a checkpoint

        foreach (var (kind, bytes) in Mutations.Of(original[..^32], 1500, seed: 12))
            run.Case("forged-" + kind, [.. bytes, .. SHA256.HashData(bytes)], Load);
        run.AssertHeld(minimumRefused: 2000);
    }

    internal static bool Mkfifo(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    [Fact]
    public void ANonFiniteWeightOrStatisticIsRefusedWhenTheCheckpointIsRead()
    {
        using var dir = new TempDir();
        string path = dir.Sub("nan.ckpt");
        using (var model = TinyModel())
        {
            using (torch.no_grad()) model.state_dict()["bn.running_var"][1].fill_(float.NaN);
            var header = new CheckpointHeader("CifarMobileNetV2", new TrainingPosition(1, 2, 3), new TrainConfig { Model = "CifarMobileNetV2" }, "2025-01-01T00:00:00Z");
            Checkpoint.Save(path, header, model, optimizer: null);
        }

        using var target = TinyModel();
        var e = Assert.Throws<DataException>(() => Checkpoint.LoadInferenceWeights(path, target));
        Assert.Contains(path, e.Message);
        Assert.Contains("bn.running_var", e.Message);
        Assert.Contains("not finite", e.Message);
        using (var x = torch.zeros(1, 3, 6, 6))
        using (var y = target.forward(x)) Assert.Equal([1L, 3L], y.shape); // the caller's model is the caller's: not disposed by a failed load
        e = Assert.Throws<DataException>(() => Checkpoint.Load(path, target, optimizer: null, restoreRng: false));
        Assert.Contains("bn.running_var", e.Message);
    }

    [Fact]
    public void ANullClassNameIsDamageNamingTheFile()
    {
        using var dir = new TempDir();
        string path = dir.Sub("names.ckpt");
        using (var model = TinyModel())
        {
            var header = new CheckpointHeader("CifarMobileNetV2", new TrainingPosition(1, 2, 3), new TrainConfig { Model = "CifarMobileNetV2" }, "2025-01-01T00:00:00Z")
            {
                ClassNames = ["cat", null!, "dog"],
            };
            Checkpoint.Save(path, header, model, optimizer: null);
        }
        var e = Assert.Throws<DataException>(() => Checkpoint.ReadHeader(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("class name", e.Message);
    }
}

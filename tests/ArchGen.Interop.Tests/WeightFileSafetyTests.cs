using ArchGen.App.Tests;
using ArchGen.Data;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ArchGen.Interop.Tests;

/// <summary>
/// Weights files are checked before libtorch sees them (issue 15 items 6 and 10, and the unhelpful texts): zip
/// bombs, a tensor claiming terabytes, negative dimensions, a malicious pickle, the legacy format and a truncated
/// archive are each one error naming the file, with no native stack trace and no large allocation.
/// </summary>
[Collection("Allocations")]
public class WeightFileSafetyTests
{
    static readonly float[] Four = [1, 2, 3, 4];

    static DataException Refused(string path, long allocationBound = 8 << 20)
    {
        using var model = TorchFiles.TinyModel();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataException>(() => PyTorchWeights.Load(model, path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < allocationBound, $"allocated {allocated:N0} bytes before refusing");
        Assert.Contains(path, error.Message);
        Assert.DoesNotContain("Exception raised from", error.Message);
        Assert.DoesNotContain("frame #", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    [Fact]
    public void TheRealTinyFileLoads()
    {
        using var model = TorchFiles.TinyModel();
        PyTorchWeights.Load(model, TorchFiles.TinyWeights);
        Assert.Equal(3, model.state_dict()["linear.weight"].shape[0]);
    }

    [Fact]
    public void ZipBombsAreRefusedWithoutInflating()
    {
        using var dir = new TempDir();
        // data.pkl inflating to 256 MB.
        File.WriteAllBytes(dir["pickle-bomb.pt"], TorchFiles.Bomb("archive/data.pkl", 256L << 20));
        Assert.Contains("data.pkl claims 268,435,456 bytes", Refused(dir["pickle-bomb.pt"]).Message);

        // A storage inflating to 256 MB, which the pickle honestly claims for linear.weight.
        var claims = new[] { new TensorClaim("linear.weight", "FloatStorage", "0", 64L << 20, 0, [3, 4], [4, 1]) };
        File.WriteAllBytes(dir["storage-bomb.pt"], TorchFiles.Bomb("archive/data/0", 256L << 20, ("archive/data.pkl", TorchFiles.StateDictPickle(claims))));
        Assert.Contains("more than the model's weights take", Refused(dir["storage-bomb.pt"]).Message);
    }

    [Fact]
    public void ATensorClaimingFourTerabytesOrNegativeDimensionsIsRefused()
    {
        using var dir = new TempDir();
        var huge = new[] { new TensorClaim("linear.weight", "FloatStorage", "0", 1L << 40, 0, [1L << 20, 1L << 20], [1L << 20, 1]) };
        File.WriteAllBytes(dir["huge.pt"], TorchFiles.Archive(TorchFiles.StateDictPickle(huge), [("0", new byte[16])]));
        Assert.Contains("but its archive entry holds 16 bytes", Refused(dir["huge.pt"]).Message);

        var negative = new[] { new TensorClaim("linear.weight", "FloatStorage", "0", 4, 0, [-1, 4], [4, 1]) };
        File.WriteAllBytes(dir["negative.pt"], TorchFiles.Archive(TorchFiles.StateDictPickle(negative), [("0", new byte[16])]));
        Assert.Contains("negative or oversized shape [-1,4]", Refused(dir["negative.pt"]).Message);

        File.WriteAllBytes(dir["huge.safetensors"], TorchFiles.Safetensors(
            """{"linear.weight":{"dtype":"F32","shape":[250000000000],"data_offsets":[0,1000000000000]}}""", 16));
        Assert.Contains("claims bytes up to 1,000,000,000,000 of the data, which has 16", Refused(dir["huge.safetensors"]).Message);

        File.WriteAllBytes(dir["negative.safetensors"], TorchFiles.Safetensors(
            """{"linear.weight":{"dtype":"F32","shape":[-3,4],"data_offsets":[0,48]}}""", 48));
        Assert.Contains("not a non-negative integer", Refused(dir["negative.safetensors"]).Message);

        File.WriteAllBytes(dir["header.safetensors"], [.. BitConverter.GetBytes(ulong.MaxValue), .. new byte[32]]);
        Assert.Contains("its header claims", Refused(dir["header.safetensors"]).Message);
    }

    [Fact]
    public void AMaliciousPickleIsRefusedAndSaysWhy()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["evil.pt"], TorchFiles.Archive(TorchFiles.MaliciousPickle(), []));
        var error = Refused(dir["evil.pt"]);
        Assert.Contains("refused", error.Message);
        Assert.Contains("'os.system'", error.Message);
        Assert.Contains("nothing from the file was run", error.Message);
        Assert.DoesNotContain("IObjectConstructor", error.Message);
    }

    [Fact]
    public void LegacyTruncatedAndForeignFilesSayWhatTheyAre()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["legacy.pt"], [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
        Assert.Contains("legacy format of PyTorch before 1.6", Refused(dir["legacy.pt"]).Message);

        byte[] real = File.ReadAllBytes(TorchFiles.TinyWeights);
        File.WriteAllBytes(dir["truncated.pt"], real[..(real.Length / 2)]);
        var truncated = Refused(dir["truncated.pt"]);
        Assert.Contains("zip archive is damaged or truncated", truncated.Message);

        File.WriteAllText(dir["notes.pt"], "just some text, not weights");
        var text = Refused(dir["notes.pt"]);
        Assert.Contains("not a PyTorch weights file", text.Message);
        Assert.DoesNotContain("old PyTorch format", text.Message);

        // A whole nn.Module pickled (parameters instead of a state_dict).
        using var model = TorchFiles.TinyModel();
        string saved = dir["saved.pt"];
        PyTorchPickler.PickleStateDict(saved, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));
        var entries = TorchFiles.Entries(File.ReadAllBytes(saved));
        int pkl = entries.FindIndex(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal));
        entries[pkl] = (entries[pkl].Name, System.Text.Encoding.Latin1.GetBytes(System.Text.Encoding.Latin1.GetString(entries[pkl].Data).Replace("_rebuild_tensor_v2", "_rebuild_parameter")));
        File.WriteAllBytes(dir["module.pt"], TorchFiles.Zip(entries));
        Assert.Contains("whole model's parameters", Refused(dir["module.pt"]).Message);
    }

    [Fact]
    public void TheAppGivesOneLineWithoutANativeTrace()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["huge.safetensors"], TorchFiles.Safetensors(
            """{"linear.weight":{"dtype":"F32","shape":[250000000000],"data_offsets":[0,1000000000000]}}""", 16));
        var huge = new[] { new TensorClaim("linear.weight", "FloatStorage", "0", 1L << 40, 0, [1L << 20, 1L << 20], [1L << 20, 1]) };
        File.WriteAllBytes(dir["huge.pt"], TorchFiles.Archive(TorchFiles.StateDictPickle(huge), [("0", new byte[16])]));
        File.WriteAllBytes(dir["evil.pt"], TorchFiles.Archive(TorchFiles.MaliciousPickle(), []));
        foreach (string file in new[] { "huge.safetensors", "huge.pt", "evil.pt" })
        {
            var (code, output, err) = AppProcess.Run(dir.Path, "import", "--model", "CifarMobileNetV2", "--from", file, "--out", "x.ckpt");
            Assert.True(code == 1, $"{file}: exit {code}\n{output}\n{err}");
            string line = err.Trim();
            Assert.StartsWith("error: ", line);
            Assert.DoesNotContain('\n', line);
            Assert.Contains(file, line);
            Assert.DoesNotContain("Exception raised from", line);
            Assert.DoesNotContain("frame #", line);
            Assert.DoesNotContain("IObjectConstructor", line);
            Assert.False(File.Exists(dir["x.ckpt"]));
        }
    }
}

[CollectionDefinition("Allocations", DisableParallelization = true)]
public sealed class AllocationMeasurements;

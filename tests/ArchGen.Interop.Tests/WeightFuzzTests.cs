using ArchGen.App.Tests;
using ArchGen.Data;
using ArchGen.Runtime.Tests.Fuzzing;
using TorchSharp.PyBridge;

namespace ArchGen.Interop.Tests;

/// <summary>
/// Thousands of seeded mutations of a .pt file written by PyTorch itself and of a .safetensors file: each is loaded
/// or refused with a <see cref="DataException"/> naming it, never another exception, never a native trace, with
/// bounded allocations (issue 15).
/// </summary>
[Collection("Allocations")]
public class WeightFuzzTests
{
    [Fact]
    public void PtFilesMutatedAnywhere()
    {
        using var dir = new TempDir();
        byte[] original = File.ReadAllBytes(TorchFiles.TinyWeights);
        using var model = TorchFiles.TinyModel();
        var run = new FuzzRun<DataException>(dir["fuzzed.pt"], 32L * original.Length + (4 << 20), 256L << 20);
        foreach (var (kind, bytes) in Mutations.Of(original, 1000, seed: 31))
            run.Case(kind, bytes, p => PyTorchWeights.Load(model, p));
        run.AssertHeld(minimumRefused: 700);
    }

    /// <summary>The pickle mutated inside a well-formed zip (fresh sizes and checksums), so the pickle reader itself is fuzzed.</summary>
    [Fact]
    public void PtPicklesMutatedInsideAValidArchive()
    {
        using var dir = new TempDir();
        var entries = TorchFiles.Entries(File.ReadAllBytes(TorchFiles.TinyWeights));
        int pkl = entries.FindIndex(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal));
        using var model = TorchFiles.TinyModel();
        var run = new FuzzRun<DataException>(dir["fuzzed.pt"], 64L * 4096 + (4 << 20), 256L << 20);
        foreach (var (kind, pickle) in Mutations.Of(entries[pkl].Data, 1500, seed: 32))
        {
            var mutated = entries.ToList();
            mutated[pkl] = (entries[pkl].Name, pickle);
            run.Case(kind, TorchFiles.Zip(mutated), p => PyTorchWeights.Load(model, p));
        }
        run.AssertHeld(minimumRefused: 1000);
    }

    [Fact]
    public void SafetensorsFilesMutatedAnywhereAndInTheirHeader()
    {
        using var dir = new TempDir();
        using var model = TorchFiles.TinyModel();
        string seed = dir["seed.safetensors"];
        Safetensors.SaveStateDict(seed, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));
        byte[] original = File.ReadAllBytes(seed);
        int header = 8 + (int)BitConverter.ToUInt64(original);

        var run = new FuzzRun<DataException>(dir["fuzzed.safetensors"], 32L * original.Length + (4 << 20), 256L << 20);
        foreach (var (kind, bytes) in Mutations.Of(original, 1000, seed: 33))
            run.Case(kind, bytes, p => PyTorchWeights.Load(model, p));
        foreach (var (kind, bytes) in Mutations.Of(original, 1000, seed: 34, focus: (0, header)))
            run.Case("header-" + kind, bytes, p => PyTorchWeights.Load(model, p));
        run.AssertHeld(minimumRefused: 1000);
    }
}

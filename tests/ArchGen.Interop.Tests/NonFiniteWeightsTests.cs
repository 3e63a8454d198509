using ArchGen.App.Tests;
using ArchGen.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Interop.Tests;

/// <summary>
/// Weights that are not finite, or not floating point where the model's are, are refused when they are read, naming
/// the file and the tensor (issue 24, item 6 and the dtype part of item 15).
/// </summary>
public class NonFiniteWeightsTests
{
    /// <summary>The tiny model's weights with <paramref name="key"/>[0] set to <paramref name="value"/>, saved as <paramref name="path"/>.</summary>
    static string Saved(string path, string key, float value)
    {
        using var model = TorchFiles.TinyModel();
        using (torch.no_grad()) model.state_dict()[key].view(-1)[0].fill_(value);
        PyTorchWeights.Save(model, path);
        return path;
    }

    [Theory]
    [InlineData("weights.safetensors", "bn.running_var", float.NaN)]
    [InlineData("weights.pt", "conv.weight", float.PositiveInfinity)]
    [InlineData("weights.pth", "linear.bias", float.NegativeInfinity)]
    public void ANonFiniteTensorIsRefusedNamingIt(string file, string key, float value)
    {
        using var dir = new TempDir();
        string path = Saved(dir[file], key, value);
        using var model = TorchFiles.TinyModel();
        var e = Assert.Throws<DataException>(() => PyTorchWeights.Load(model, path));
        Assert.Contains(path, e.Message);
        Assert.Contains(key, e.Message);
        Assert.Contains("not finite", e.Message);

        // Fine-tuning reads them too (the classifier may differ, nothing may be NaN).
        var source = PyTorchWeights.Read(path);
        try
        {
            e = Assert.Throws<DataException>(() => PartialWeights.Load(model, new HashSet<string> { "linear.weight", "linear.bias" }, source, path));
            Assert.Contains(key, e.Message);
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The tiny model's weights as a safetensors file written by hand, with <paramref name="key"/> replaced by
    /// <paramref name="dtype"/> data from <paramref name="fill"/> (one value per element, as bytes of that dtype).
    /// </summary>
    static string OddSafetensors(string path, string key, string dtype, Func<int, byte[]> fill)
    {
        using var model = TorchFiles.TinyModel();
        var header = new Dictionary<string, object>();
        var data = new MemoryStream();
        foreach (var (name, t) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byte[] bytes;
            string type;
            if (name == key)
            {
                bytes = fill((int)t.NumberOfElements);
                type = dtype;
            }
            else
            {
                using var c = t.contiguous();
                bytes = c.bytes.ToArray();
                type = t.dtype == ScalarType.Int64 ? "I64" : "F32";
            }
            header[name] = new { dtype = type, shape = t.shape, data_offsets = new[] { data.Length, data.Length + bytes.Length } };
            data.Write(bytes);
        }
        byte[] json = System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)json.Length));
        file.Write(json);
        file.Write(data.ToArray());
        return path;
    }

    static DataException RefusedEverywhere(string path, string key)
    {
        using var model = TorchFiles.TinyModel();
        var e = Assert.Throws<DataException>(() => PyTorchWeights.Load(model, path));
        Assert.Contains(path, e.Message);
        Assert.Contains(key, e.Message);
        // Fine-tuning (train --init) reads with the same checks, though its classifier may differ.
        var source = PyTorchWeights.Read(path);
        try
        {
            var partial = Assert.Throws<DataException>(() => PartialWeights.Load(model, new HashSet<string> { "linear.weight", "linear.bias" }, source, path));
            Assert.Contains(key, partial.Message);
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
        return e;
    }

    [Theory]
    [InlineData("I64", "linear.bias")]
    [InlineData("BOOL", "bn.weight")]
    [InlineData("U8", "conv.weight")]
    [InlineData("F32", "bn.num_batches_tracked")]
    public void AnIntegerOrBoolTensorForAFloatParameterIsRefused(string dtype, string key)
    {
        using var dir = new TempDir();
        int size = dtype switch { "I64" => 8, "F32" => 4, _ => 1 };
        string path = OddSafetensors(dir["odd.safetensors"], key, dtype, n => new byte[n * size]);
        Assert.Contains("dtype", RefusedEverywhere(path, key).Message);
    }

    [Fact]
    public void Float64ValuesBeyondFloat32AreRefusedNotLoadedAsInfinity()
    {
        using var dir = new TempDir();
        string path = OddSafetensors(dir["big.safetensors"], "conv.weight", "F64",
            n => Enumerable.Range(0, n).SelectMany(i => BitConverter.GetBytes(i == 0 ? 1e300 : 0.01)).ToArray());
        Assert.Contains("float32", RefusedEverywhere(path, "conv.weight").Message);
    }

    [Fact]
    public void ANegativeRunningVarianceIsRefused()
    {
        using var dir = new TempDir();
        string path = Saved(dir["negative.safetensors"], "bn.running_var", -1f);
        Assert.Contains("negative", RefusedEverywhere(path, "bn.running_var").Message);
    }
}

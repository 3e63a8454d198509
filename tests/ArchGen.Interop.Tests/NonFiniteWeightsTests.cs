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

    [Theory]
    [InlineData("I64")]
    [InlineData("BOOL")]
    [InlineData("U8")]
    public void AnIntegerOrBoolTensorForAFloatParameterIsRefused(string dtype)
    {
        using var dir = new TempDir();
        using var model = TorchFiles.TinyModel();
        PyTorchWeights.Save(model, dir["good.safetensors"]);
        // The same file with linear.bias (3 floats) stored as 3 integers or booleans of the same shape.
        var tensors = PyTorchWeights.Read(dir["good.safetensors"]);
        var header = new Dictionary<string, object>();
        var data = new MemoryStream();
        foreach (var (key, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            byte[] bytes;
            string type;
            if (key == "linear.bias")
            {
                int size = dtype == "I64" ? 8 : 1;
                bytes = new byte[3 * size];
                bytes[0] = 1;
                type = dtype;
            }
            else
            {
                using var c = t.contiguous();
                bytes = c.bytes.ToArray();
                type = t.dtype == ScalarType.Int64 ? "I64" : "F32";
            }
            header[key] = new { dtype = type, shape = t.shape, data_offsets = new[] { data.Length, data.Length + bytes.Length } };
            data.Write(bytes);
            t.Dispose();
        }
        byte[] json = System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(header));
        using (var file = File.Create(dir["odd.safetensors"]))
        {
            file.Write(BitConverter.GetBytes((long)json.Length));
            file.Write(json);
            file.Write(data.ToArray());
        }

        var e = Assert.Throws<DataException>(() => PyTorchWeights.Load(model, dir["odd.safetensors"]));
        Assert.Contains("linear.bias", e.Message);
        Assert.Contains(dir["odd.safetensors"], e.Message);
    }
}

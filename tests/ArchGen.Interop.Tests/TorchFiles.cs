using System.IO.Compression;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Interop.Tests;

/// <summary>One tensor of a crafted state_dict pickle: what it claims, right or wrong.</summary>
public sealed record TensorClaim(string Key, string Storage, string StorageKey, long Elements, long Offset, long[] Shape, long[] Stride);

/// <summary>Crafts weights files byte by byte, to say exactly what a hostile or damaged file would.</summary>
public static class TorchFiles
{
    /// <summary>The module of Fixtures/tiny/weights.pt (tools/reference/make_fuzz_seed.py), built in TorchSharp.</summary>
    public static nn.Module<Tensor, Tensor> TinyModel() =>
        nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("linear", nn.Linear(4, 3)));

    public static string TinyWeights => ParityTests.Fixture("tiny", "weights.pt");

    /// <summary>A protocol-2 pickle of an OrderedDict of tensors, as torch.save writes one.</summary>
    public static byte[] StateDictPickle(IEnumerable<TensorClaim> tensors)
    {
        var p = new PickleWriter();
        p.Op(0x80, 2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
        foreach (var t in tensors)
        {
            p.Unicode(t.Key).Global("torch._utils", "_rebuild_tensor_v2").Op('(');
            p.Op('(').Unicode("storage").Global("torch", t.Storage).Unicode(t.StorageKey).Unicode("cpu").Int(t.Elements).Op('t').Op('Q');
            p.Int(t.Offset).Op('(');
            foreach (long d in t.Shape) p.Int(d);
            p.Op('t').Op('(');
            foreach (long s in t.Stride) p.Int(s);
            p.Op('t').Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
        }
        return p.Op('u').Op('.').ToArray();
    }

    /// <summary>A pickle that would run <c>os.system("echo pwned")</c> in Python.</summary>
    public static byte[] MaliciousPickle() =>
        new PickleWriter().Op(0x80, 2).Global("os", "system").Op('(').Unicode("echo pwned").Op('t').Op('R').Op('.').ToArray();

    /// <summary>A torch.save-style zip: archive/data.pkl, the storages under archive/data/, archive/version.</summary>
    public static byte[] Archive(byte[] pickle, IEnumerable<(string Key, byte[] Data)> storages, CompressionLevel level = CompressionLevel.NoCompression)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "archive/data.pkl", pickle, level);
            foreach (var (key, data) in storages) Write(zip, $"archive/data/{key}", data, level);
            Write(zip, "archive/version", "3\n"u8.ToArray(), CompressionLevel.NoCompression);
        }
        return output.ToArray();
    }

    /// <summary>The entries of a zip, in order (name, bytes).</summary>
    public static List<(string Name, byte[] Data)> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.Select(e =>
        {
            using var s = e.Open();
            var ms = new MemoryStream();
            s.CopyTo(ms);
            return (e.FullName, ms.ToArray());
        }).ToList();
    }

    /// <summary>A zip holding <paramref name="entries"/> stored (as torch.save writes them).</summary>
    public static byte[] Zip(IEnumerable<(string Name, byte[] Data)> entries)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in entries) Write(zip, name, data, CompressionLevel.NoCompression);
        return output.ToArray();
    }

    /// <summary>A zip whose entry <paramref name="name"/> inflates to <paramref name="zeros"/> zero bytes (a zip bomb: about 1 KB per MB).</summary>
    public static byte[] Bomb(string name, long zeros, params (string Name, byte[] Data)[] others)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (n, d) in others) Write(zip, n, d, CompressionLevel.NoCompression);
            using var stream = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
            var block = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= block.Length) stream.Write(block, 0, (int)Math.Min(block.Length, left));
        }
        return output.ToArray();
    }

    /// <summary>A safetensors file with the given header JSON and <paramref name="dataBytes"/> bytes of data.</summary>
    public static byte[] Safetensors(string header, int dataBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[dataBytes]];
    }

    static void Write(ZipArchive zip, string name, byte[] data, CompressionLevel level)
    {
        using var stream = zip.CreateEntry(name, level).Open();
        stream.Write(data);
    }

    sealed class PickleWriter
    {
        readonly MemoryStream bytes = new();

        public PickleWriter Op(char op) => Op((byte)op);

        public PickleWriter Op(params byte[] ops)
        {
            bytes.Write(ops);
            return this;
        }

        public PickleWriter Global(string module, string name) => Op('c').Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

        public PickleWriter Unicode(string s)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(s);
            return Op('X').Op(BitConverter.GetBytes(utf8.Length)).Op(utf8);
        }

        public PickleWriter Int(long v)
        {
            if (v is >= 0 and <= int.MaxValue) return Op('J').Op(BitConverter.GetBytes((int)v));
            byte[] raw = BitConverter.GetBytes(v); // LONG1: little-endian two's complement
            return Op(0x8a, 8).Op(raw);
        }

        public byte[] ToArray() => bytes.ToArray();
    }
}

using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "archgen-data-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Writers for the official file formats, with seeded contents.</summary>
internal static class TestFiles
{
    /// <summary>Writes a CIFAR-10 batch file; returns its records (label, 3072 pixels).</summary>
    public static (byte[] Labels, byte[] Pixels) WriteCifarBatch(string path, int records, int seed)
    {
        var rng = new Random(seed);
        var labels = new byte[records];
        var pixels = new byte[records * 3072];
        rng.NextBytes(pixels);
        var file = new byte[records * Cifar10.RecordBytes];
        for (int r = 0; r < records; r++)
        {
            labels[r] = (byte)rng.Next(10);
            file[r * Cifar10.RecordBytes] = labels[r];
            Array.Copy(pixels, r * 3072, file, r * Cifar10.RecordBytes + 1, 3072);
        }
        File.WriteAllBytes(path, file);
        return (labels, pixels);
    }

    public static readonly string[] CifarNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Writes a complete cifar-10-batches-bin folder with <paramref name="records"/> records per file.</summary>
    public static (byte[] Labels, byte[] Pixels) WriteCifarFolder(string folder, int records)
    {
        Directory.CreateDirectory(folder);
        var labels = new List<byte>();
        var pixels = new List<byte>();
        int seed = 1;
        foreach (var f in Cifar10.TrainFiles)
        {
            var (l, p) = WriteCifarBatch(Path.Combine(folder, f), records, seed++);
            labels.AddRange(l);
            pixels.AddRange(p);
        }
        WriteCifarBatch(Path.Combine(folder, Cifar10.TestFile), records, 99);
        File.WriteAllText(Path.Combine(folder, Cifar10.MetaFile), string.Join("\n", CifarNames) + "\n\n");
        return (labels.ToArray(), pixels.ToArray());
    }

    /// <summary>Bytes of an IDX file: magic, big-endian dimensions, data.</summary>
    public static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var ms = new MemoryStream();
        void Int(int v) { ms.WriteByte((byte)(v >> 24)); ms.WriteByte((byte)(v >> 16)); ms.WriteByte((byte)(v >> 8)); ms.WriteByte((byte)v); }
        Int(magic);
        foreach (var d in dims) Int(d);
        ms.Write(data);
        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Writes one Fashion-MNIST split; returns the 28x28 images and labels.</summary>
    public static (byte[] Images, byte[] Labels) WriteFashionSplit(string folder, string split, int count, bool gzip, int seed)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        var images = new byte[count * 28 * 28];
        rng.NextBytes(images);
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)rng.Next(10);
        var img = Idx(0x803, [count, 28, 28], images);
        var lab = Idx(0x801, [count], labels);
        string suffix = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(folder, $"{split}-images-idx3-ubyte{suffix}"), gzip ? Gzip(img) : img);
        File.WriteAllBytes(Path.Combine(folder, $"{split}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(lab) : lab);
        return (images, labels);
    }

    /// <summary>A .tar.gz holding the given files (name → contents).</summary>
    public static byte[] TarGz(IEnumerable<(string Name, byte[] Data)> files)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
                tar.WriteEntry(entry);
            }
        }
        return ms.ToArray();
    }

    /// <summary>An archive laid out like the official one, with tiny batch files.</summary>
    public static byte[] CifarArchive(int records, params (string Name, byte[] Data)[] extra)
    {
        using var dir = new TempDir();
        WriteCifarFolder(dir.Path, records);
        var files = Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal)
            .Select(f => ($"{Cifar10.FolderName}/{Path.GetFileName(f)}", File.ReadAllBytes(f)))
            .Concat(extra);
        return TarGz(files);
    }

    public static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));
}

/// <summary>Serves one response; optionally claims more bytes than it sends or fails mid-stream.</summary>
internal sealed class FakeHandler(byte[] body, long? claimedLength = null, int? failAfter = null, HttpStatusCode status = HttpStatusCode.OK, bool stall = false) : HttpMessageHandler
{
    public int Requests { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests++;
        Stream stream = failAfter is int n ? new FailingStream(body, n, stall) : new MemoryStream(body);
        var content = new StreamContent(stream);
        content.Headers.ContentLength = claimedLength ?? body.Length;
        return Task.FromResult(new HttpResponseMessage(status) { Content = content, RequestMessage = request });
    }

    /// <summary>Serves the first bytes, then fails (or, with <c>stall</c>, waits until cancelled).</summary>
    private sealed class FailingStream(byte[] data, int failAfter, bool stall) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position >= failAfter) throw new IOException("connection reset by peer");
            return base.Read(buffer, offset, (int)Math.Min(count, failAfter - Position));
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= failAfter && stall) await Task.Delay(Timeout.Infinite, cancellationToken);
            if (Position >= failAfter) throw new IOException("connection reset by peer");
            return await base.ReadAsync(buffer[..(int)Math.Min(buffer.Length, failAfter - Position)], cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

/// <summary>Records progress synchronously (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class ListProgress<T> : IProgress<T>
{
    private readonly List<T> _items = [];

    public IReadOnlyList<T> Items { get { lock (_items) return _items.ToArray(); } }

    public void Report(T value) { lock (_items) _items.Add(value); }
}

using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace ArchGen.Data;

/// <summary>
/// CIFAR-10 from its official binary distribution (<c>cifar-10-batches-bin</c>): each batch file holds records of
/// one label byte followed by 3072 pixel bytes (32x32 red plane, then green, then blue).
/// </summary>
public static class Cifar10
{
    /// <summary>The dataset's name (<c>--dataset cifar10</c>).</summary>
    public const string Name = "cifar10";

    /// <summary>Folder name inside the official archive.</summary>
    public const string FolderName = "cifar-10-batches-bin";

    /// <summary>Published MD5 of the official archive.</summary>
    public const string ArchiveMd5 = "c32a1d4ab5d03f1284b67883e8d87530";

    /// <summary>Bytes per record: 1 label + 3 x 32 x 32 pixels.</summary>
    public const int RecordBytes = 1 + ImageBytes;

    /// <summary>Records in each official batch file.</summary>
    public const int OfficialRecordsPerFile = 10000;

    private const int ImageBytes = 3 * 32 * 32;

    /// <summary>Official archive address.</summary>
    public static Uri ArchiveUri { get; } = new("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");

    /// <summary>The five training batch files.</summary>
    public static IReadOnlyList<string> TrainFiles { get; } = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    /// <summary>The test batch file.</summary>
    public const string TestFile = "test_batch.bin";

    /// <summary>The class-name file (one name per line).</summary>
    public const string MetaFile = "batches.meta.txt";

    /// <summary>Class names used when <see cref="MetaFile"/> is absent.</summary>
    public static IReadOnlyList<string> DefaultClassNames { get; } = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// Finds CIFAR-10 (see <see cref="SearchRoots"/>), downloading it when absent and <see cref="DataOptions.Download"/> is set;
    /// the splits are read on first use.
    /// </summary>
    public static IDataset Open(DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var roots = SearchRoots(options.DataDir, Environment.GetEnvironmentVariable("ARCHGEN_DATA"), Directory.GetCurrentDirectory());
        var folder = Find(roots);
        if (folder is null)
        {
            if (!options.Download)
            {
                if (options.DataDir is not null && !Directory.Exists(options.DataDir))
                    throw new DataException("the data folder does not exist (pass --download to fetch CIFAR-10 into it)", options.DataDir);
                throw new DataException(
                    $"CIFAR-10 not found: expected {FolderName}/ (with {string.Join(", ", TrainFiles)}, {TestFile}) or those files directly in "
                    + string.Join(" or ", roots) + "; pass --download to fetch it (about 163 MB), or --data DIR to point at a copy");
            }
            folder = DownloadAsync(roots[0], options).GetAwaiter().GetResult();
        }
        var cancel = options.CancellationToken;
        return new InMemoryDataset(Name,
            () => Read(folder, TrainFiles, ReadClassNames(folder), cancel: cancel),
            () => Read(folder, [TestFile], ReadClassNames(folder), cancel: cancel),
            () => Normalization.Cifar10);
    }

    /// <summary>
    /// Where to look, in order: only <paramref name="dataDir"/> when given; otherwise <paramref name="environmentDir"/>
    /// (<c>$ARCHGEN_DATA</c>) when set, then <c>./data</c>. The first entry is where a download goes.
    /// </summary>
    public static IReadOnlyList<string> SearchRoots(string? dataDir, string? environmentDir, string currentDirectory)
    {
        if (!string.IsNullOrWhiteSpace(dataDir)) return [Path.GetFullPath(dataDir)];
        var roots = new List<string>();
        if (!string.IsNullOrWhiteSpace(environmentDir)) roots.Add(Path.GetFullPath(environmentDir));
        roots.Add(Path.GetFullPath(Path.Combine(currentDirectory, "data")));
        return roots;
    }

    /// <summary>
    /// The first root that is itself a CIFAR-10 folder (holds any of the batch files) or has a
    /// <see cref="FolderName"/> subfolder; null when none does.
    /// </summary>
    public static string? Find(IEnumerable<string> roots)
    {
        foreach (var root in roots)
        {
            if (!Directory.Exists(root)) continue;
            if (LooksLikeCifar(root)) return root;
            var sub = Path.Combine(root, FolderName);
            if (Directory.Exists(sub)) return sub;
        }
        return null;
    }

    private static bool LooksLikeCifar(string folder) =>
        TrainFiles.Append(TestFile).Any(f => File.Exists(Path.Combine(folder, f)));

    /// <summary>Class names from <see cref="MetaFile"/> (non-empty lines), or <see cref="DefaultClassNames"/> when it is absent.</summary>
    public static IReadOnlyList<string> ReadClassNames(string folder)
    {
        var path = Path.Combine(folder, MetaFile);
        if (!File.Exists(path)) return DefaultClassNames;
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(InputFile.ReadAll(path, MaxMetaBytes, "class-name file"));
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new DataException("the class names are not UTF-8 text", path);
        }
        var names = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != 10)
            throw new DataException($"expected 10 class names, one per line; found {names.Length}", path);
        return names;
    }

    /// <summary>
    /// Reads batch files from <paramref name="folder"/> into one set. With <paramref name="recordsPerFile"/> set
    /// (the official files hold 10000 records) each file must be exactly that long; with null (the default, so that
    /// smaller files in the official format work too) each file must hold a whole number of records, no more than
    /// the official <see cref="OfficialRecordsPerFile"/>, the same number in every file read together. Sizes are
    /// checked on every file before anything is allocated; only regular files are read.
    /// </summary>
    public static ImageSet Read(string folder, IReadOnlyList<string> files, IReadOnlyList<string> classNames, int? recordsPerFile = null, CancellationToken cancel = default)
    {
        if (!Directory.Exists(folder)) throw new DataException("the CIFAR-10 folder does not exist", folder);
        var paths = files.Select(f => Path.Combine(folder, f)).ToArray();
        var counts = new int[paths.Length];
        for (int i = 0; i < paths.Length; i++)
        {
            if (!File.Exists(paths[i]) && !Directory.Exists(paths[i]))
                throw new DataException($"missing file; the CIFAR-10 binary distribution has {string.Join(", ", TrainFiles)} and {TestFile}", paths[i]);
            long length = InputFile.Length(paths[i], what: "CIFAR-10 batch file");
            counts[i] = CheckSize(paths[i], length, recordsPerFile);
            if (counts[i] != counts[0])
                throw new DataException(
                    $"file holds {counts[i]} records ({length} bytes) but {files[0]} holds {counts[0]}; expected the same number of {RecordBytes}-byte records in every batch file",
                    paths[i], Math.Min(length, (long)counts[0] * RecordBytes));
        }

        int total = counts.Sum();
        var pixels = new byte[(long)total * ImageBytes];
        var labels = new byte[total];
        int start = 0;
        for (int i = 0; i < paths.Length; i++)
        {
            ReadFile(paths[i], counts[i], classNames.Count, pixels.AsSpan(start * ImageBytes, counts[i] * ImageBytes), labels.AsSpan(start, counts[i]), cancel);
            start += counts[i];
        }
        return new ImageSet(pixels, labels, 3, 32, 32, classNames);
    }

    private static int CheckSize(string path, long length, int? recordsPerFile)
    {
        if (recordsPerFile is int n)
        {
            long expected = (long)n * RecordBytes;
            if (length < expected)
                throw new DataException($"file is truncated: it ends after {length} bytes; expected {expected} bytes ({n} records of {RecordBytes} bytes: 1 label + 3072 pixels)", path, length);
            if (length > expected)
                throw new DataException($"file is {length} bytes, longer than the expected {expected} ({n} records of {RecordBytes} bytes); unexpected data starts here", path, expected);
            return n;
        }
        if (length == 0) throw new DataException($"file is empty; expected records of {RecordBytes} bytes", path, 0);
        long rest = length % RecordBytes;
        if (rest != 0)
            throw new DataException(
                $"file size {length} is not a whole number of {RecordBytes}-byte records: the last record is truncated ({rest} of {RecordBytes} bytes)",
                path, length - rest);
        if (length / RecordBytes > OfficialRecordsPerFile)
            throw new DataException($"file holds {length / RecordBytes:N0} records ({length:N0} bytes); a CIFAR-10 batch file has at most {OfficialRecordsPerFile:N0}", path, (long)OfficialRecordsPerFile * RecordBytes);
        return (int)(length / RecordBytes);
    }

    private const int MaxMetaBytes = 1 << 16;

    private static void ReadFile(string path, int count, int classCount, Span<byte> pixels, Span<byte> labels, CancellationToken cancel)
    {
        using var stream = InputFile.Open(path, (long)count * RecordBytes, "CIFAR-10 batch file");
        var chunk = new byte[Math.Min(count, 256) * RecordBytes];
        for (int first = 0; first < count; first += chunk.Length / RecordBytes)
        {
            int records = Math.Min(chunk.Length / RecordBytes, count - first);
            InputFile.ReadExactly(stream, chunk.AsSpan(0, records * RecordBytes), path, (long)first * RecordBytes, cancel);
            for (int k = 0; k < records; k++)
            {
                int r = first + k, offset = k * RecordBytes;
                byte label = chunk[offset];
                if (label >= classCount)
                    throw new DataException($"label {label} of record {r} is out of range; expected 0..{classCount - 1}", path, (long)r * RecordBytes);
                labels[r] = label;
                chunk.AsSpan(offset + 1, ImageBytes).CopyTo(pixels.Slice(r * ImageBytes, ImageBytes));
            }
        }
    }

    /// <summary>
    /// Downloads the archive into <paramref name="root"/>: to a temporary file, verified against its MD5, extracted
    /// (refusing entries that would land outside the target, links and devices) into a temporary folder, and only
    /// then renamed to <c>root/cifar-10-batches-bin</c>; on any failure the temporaries are removed. Returns that folder.
    /// </summary>
    public static async Task<string> DownloadAsync(string root, DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var uri = options.DownloadUri ?? ArchiveUri;
        var expectedMd5 = (options.ExpectedMd5 ?? ArchiveMd5).Trim().ToLowerInvariant();
        var progress = options.Progress;
        var ct = options.CancellationToken;
        Directory.CreateDirectory(root);
        var target = Path.Combine(root, FolderName);
        if (Directory.Exists(target))
            throw new DataException("the folder already exists but is incomplete; remove it and download again", target);

        var tag = Guid.NewGuid().ToString("N")[..12];
        var part = Path.Combine(root, $".cifar-10-binary.tar.gz.{tag}.part");
        var staging = Path.Combine(root, $".cifar-10-extract.{tag}");
        var source = uri.ToString();
        try
        {
            await FetchAsync(uri, part, expectedMd5, options.HttpHandler, options.StallTimeout ?? DefaultStallTimeout, progress, ct).ConfigureAwait(false);
            progress?.Report(new DownloadProgress(DownloadStage.Verified, new FileInfo(part).Length, new FileInfo(part).Length, source));
            ExtractSafely(part, staging, source, progress, ct);

            var extracted = Path.Combine(staging, FolderName);
            foreach (var f in TrainFiles.Append(TestFile))
            {
                if (!File.Exists(Path.Combine(extracted, f)))
                    throw new DataException($"the archive has no {FolderName}/{f}", source);
            }
            Directory.Move(extracted, target);
            progress?.Report(new DownloadProgress(DownloadStage.Done, 0, null, target));
            return target;
        }
        finally
        {
            TryDelete(() => File.Delete(part));
            TryDelete(() => { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); });
        }
    }

    private static async Task FetchAsync(Uri uri, string part, string expectedMd5, HttpMessageHandler? handler, TimeSpan stallTimeout, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var source = uri.ToString();
        using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new DataException($"download failed: {e.Message}", source, innerException: e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new DataException($"download failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}", source);
            long? total = response.Content.Headers.ContentLength;
            long received = 0;
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            try
            {
                await using var input = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                await using var output = new FileStream(part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                var buffer = new byte[1 << 16];
                long lastReport = 0;
                progress?.Report(new DownloadProgress(DownloadStage.Downloading, 0, total, source));
                int n;
                using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
                while (true)
                {
                    stall.CancelAfter(stallTimeout);
                    try
                    {
                        n = await input.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        throw new DataException($"download stalled: no data for {stallTimeout.TotalSeconds:0.#} s after {received} bytes", source, received);
                    }
                    if (n == 0) break;
                    md5.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    received += n;
                    if (received - lastReport >= 1 << 20)
                    {
                        lastReport = received;
                        progress?.Report(new DownloadProgress(DownloadStage.Downloading, received, total, source));
                    }
                }
                progress?.Report(new DownloadProgress(DownloadStage.Downloading, received, total, source));
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new DataException($"download interrupted after {received} bytes: {e.Message}", source, received, e);
            }

            if (total is long t && received != t)
                throw new DataException($"download truncated: received {received} of {t} bytes", source, received);
            var actual = Convert.ToHexStringLower(md5.GetHashAndReset());
            if (actual != expectedMd5)
                throw new DataException($"checksum mismatch: the download's MD5 is {actual}, expected {expectedMd5}; it was discarded", source);
        }
    }

    /// <summary>A download receiving nothing for this long is abandoned (unless <see cref="DataOptions.StallTimeout"/> says otherwise).</summary>
    public static TimeSpan DefaultStallTimeout { get; } = TimeSpan.FromSeconds(60);

    private static void ExtractSafely(string archive, string staging, string source, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        Directory.CreateDirectory(staging);
        var rootFull = Path.GetFullPath(staging);
        var rootPrefix = rootFull.EndsWith(Path.DirectorySeparatorChar) ? rootFull : rootFull + Path.DirectorySeparatorChar;
        long extracted = 0;
        try
        {
            using var file = File.OpenRead(archive);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            TarEntry? entry;
            while ((entry = tar.GetNextEntry()) is not null)
            {
                ct.ThrowIfCancellationRequested();
                var name = entry.Name;
                if (string.IsNullOrEmpty(name) || Path.IsPathRooted(name))
                    throw new DataException($"archive entry '{name}' has an absolute or empty path; refusing to extract", source);
                var dest = Path.GetFullPath(Path.Combine(rootFull, name));
                if (!dest.StartsWith(rootPrefix, StringComparison.Ordinal) && dest != rootFull)
                    throw new DataException($"archive entry '{name}' would be written outside the target folder; refusing to extract", source);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(dest);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                        using (var output = new FileStream(dest, FileMode.CreateNew, FileAccess.Write))
                        {
                            entry.DataStream?.CopyTo(output);
                        }
                        extracted += entry.Length;
                        progress?.Report(new DownloadProgress(DownloadStage.Extracting, extracted, null, name));
                        break;
                    default:
                        throw new DataException($"archive entry '{name}' is a {entry.EntryType}; only files and folders are accepted", source);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DataException($"the archive is corrupt (after {extracted} extracted bytes): {e.Message}", source, innerException: e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DataException($"extracting the archive failed: {e.Message}", source, innerException: e);
        }
    }

    private static void TryDelete(Action delete)
    {
        try { delete(); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

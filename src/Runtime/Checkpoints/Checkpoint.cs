using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ArchGen.Data;
using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Checkpoints;

/// <summary>
/// Where in training a checkpoint was taken: the next step to run is batch <see cref="Batch"/> of epoch <see cref="Epoch"/>.
/// In the middle of an epoch, <see cref="Totals"/> carries the epoch's running sums, so a resumed run reports the
/// epoch's training loss and accuracy over all its batches, as an uninterrupted run does.
/// </summary>
public sealed record TrainingPosition(int Epoch, int Batch, long GlobalStep, EpochTotals? Totals = null);

/// <summary>
/// The running sums of an epoch so far: summed loss (per image), correct predictions, images seen and the seconds
/// spent training them (null in checkpoints that predate it: the epoch's time is then unknown).
/// </summary>
public sealed record EpochTotals(double LossSum, long Correct, long Seen, double? Seconds = null);

/// <summary>What a checkpoint holds besides the tensors.</summary>
public sealed record CheckpointHeader(string Model, TrainingPosition Position, TrainConfig Config, string CreatedUtc)
{
    /// <summary>The classes the model's outputs stand for, in output order (null in checkpoints that predate them: the model's declared classes).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }
}

/// <summary>
/// A training checkpoint: model weights and buffers, the moving average of the weights when the run keeps one
/// (<c>--ema</c>), optimizer state, training position, torch RNG state and the run's configuration, in one file.
/// Written atomically: to a temporary file beside the target, flushed to disk, then renamed over it, so the previous
/// checkpoint stays valid until the new one is complete. A SHA-256 trailer makes a damaged file an error rather than
/// silently wrong weights.
/// </summary>
public static class Checkpoint
{
    /// <summary>The usual file name of a run's latest checkpoint.</summary>
    public const string LatestFileName = "last.ckpt";

    const string Magic = "ARCHGEN-CKPT";
    const int FormatVersion = 2; // 2: a section for the averaged weights follows the model's; 1 (still read): without it

    /// <summary>
    /// Writes a checkpoint atomically (see <see cref="AtomicFile"/>); <paramref name="average"/> is the moving average of
    /// the weights, when the run keeps one.
    /// </summary>
    public static void Save(string path, CheckpointHeader header, nn.Module model, global::TorchSharp.Modules.OptimizerHelper? optimizer, nn.Module? average = null)
    {
        AtomicFile.Write(path, file =>
        {
            using (var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(JsonSerializer.Serialize(header, TrainConfig.Json));
                using (var rng = torch.random.get_rng_state())
                {
                    byte[] state = rng.data<byte>().ToArray();
                    writer.Write(state.Length);
                    writer.Write(state);
                }
                model.save(writer);
                WriteAverage(writer, average);
                writer.Write(optimizer is not null);
                if (optimizer is not null) optimizer.save_state_dict(writer);
                writer.Flush();
            }
            file.Position = 0;
            byte[] hash = SHA256.HashData(file);
            file.Seek(0, SeekOrigin.End);
            file.Write(hash);
        });
    }

    /// <summary>
    /// Reads only the header, after checking the whole file's checksum (so a damaged file is never half-trusted);
    /// the weights are not loaded.
    /// </summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var checkpoint = Open(path);
        return checkpoint.Header;
    }

    /// <summary>
    /// Opens <paramref name="path"/>, checks the whole file's checksum and reads its header, once: a caller that needs
    /// the header before it loads (resume reads the run's settings first) loads from this with
    /// <see cref="Load(VerifiedCheckpoint, nn.Module, global::TorchSharp.Modules.OptimizerHelper?, bool, nn.Module?)"/>.
    /// </summary>
    public static VerifiedCheckpoint Open(string path)
    {
        var content = OpenVerified(path);
        var reader = new BinaryReader(content, Encoding.UTF8);
        try
        {
            var (header, version) = ReadPrefix(reader, path);
            return new VerifiedCheckpoint(path, header, version, content, reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the weights into <paramref name="model"/>, the averaged weights into <paramref name="average"/> (when
    /// given; the checkpoint must hold them), the optimizer state into <paramref name="optimizer"/> (when given) and
    /// restores torch's RNG state. The checksum is verified first, and the stored keys, dtypes and shapes are checked
    /// against the model before anything is read into it; every failure is a <see cref="DataException"/> naming the file.
    /// </summary>
    public static CheckpointHeader Load(string path, nn.Module model, global::TorchSharp.Modules.OptimizerHelper? optimizer, bool restoreRng = true, nn.Module? average = null)
    {
        using var checkpoint = Open(path);
        return Load(checkpoint, model, optimizer, restoreRng, average);
    }

    /// <summary>As <see cref="Load(string, nn.Module, global::TorchSharp.Modules.OptimizerHelper?, bool, nn.Module?)"/>, from a checkpoint already opened and verified (once: a second load is refused).</summary>
    public static CheckpointHeader Load(VerifiedCheckpoint checkpoint, nn.Module model, global::TorchSharp.Modules.OptimizerHelper? optimizer, bool restoreRng = true, nn.Module? average = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var (content, reader) = checkpoint.Claim();
        string path = checkpoint.Path;
        var header = checkpoint.Header;
        int version = checkpoint.Version;
        byte[] rng = ReadRngState(reader, path);
        long weights = content.Position;
        LoadWeights(reader, model, path, header);

        long averageBytes = ReadAverageLength(reader, path, version);
        if (average is not null)
        {
            if (averageBytes == 0) throw new DataException("holds no averaged weights (--ema), so training cannot resume from it with them", path);
            LoadWeights(reader, average, path, header);
        }
        else
        {
            content.Position += averageBytes;
        }

        bool hasOptimizer = Read(reader, path, r => r.ReadBoolean());
        if (optimizer is not null)
        {
            if (!hasOptimizer) throw new DataException("holds no optimizer state, so training cannot resume from it", path);
            long at = content.Position;
            StoredOptimizerState.Check(reader, optimizer, path);
            content.Position = at;
            try
            {
                optimizer.load_state_dict(reader);
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or OverflowException or FormatException or System.Runtime.InteropServices.ExternalException)
            {
                // Only for optimizer types without a known layout: TorchSharp's own checks failed.
                throw new DataException($"the optimizer state does not fit this run's optimizer: {FirstLine(e.Message)}", path, at, e);
            }
            if (content.Position != content.Length)
                throw Damaged(path, $"{content.Length - content.Position} unexpected bytes follow the optimizer state", content.Position);
        }
        if (restoreRng)
        {
            using var state = torch.tensor(rng, torch.uint8);
            try
            {
                torch.random.set_rng_state(state);
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                throw Damaged(path, $"its RNG state is not valid ({FirstLine(e.Message)})", weights - rng.Length);
            }
        }
        return header;
    }

    /// <summary>
    /// Loads the weights to evaluate or export into <paramref name="model"/>: the moving average of the weights when
    /// the checkpoint holds one, else the trained weights, checked as <see cref="Load(string, nn.Module, global::TorchSharp.Modules.OptimizerHelper?, bool, nn.Module?)"/> checks them. Touches neither an
    /// optimizer nor torch's RNG.
    /// </summary>
    public static CheckpointHeader LoadInferenceWeights(string path, nn.Module model)
    {
        using var checkpoint = Open(path);
        LoadInferenceWeights(checkpoint, model);
        return checkpoint.Header;
    }

    /// <summary>
    /// Reads a checkpoint to evaluate or export it, opening and hashing the file once: its header, then
    /// <paramref name="build"/> makes the model the header describes (its class count, say), then its weights (the
    /// moving average when the run kept one) are loaded into it, checked as <see cref="Load(string, nn.Module, global::TorchSharp.Modules.OptimizerHelper?, bool, nn.Module?)"/> checks them.
    /// The model is disposed when its weights cannot be loaded.
    /// </summary>
    public static (CheckpointHeader Header, TModel Model) LoadInference<TModel>(string path, Func<CheckpointHeader, TModel> build)
        where TModel : nn.Module
    {
        ArgumentNullException.ThrowIfNull(build);
        using var checkpoint = Open(path);
        var model = build(checkpoint.Header);
        try
        {
            LoadInferenceWeights(checkpoint, model);
            return (checkpoint.Header, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The trained weights, then the averaged ones over them when the checkpoint holds them; no optimizer, no RNG.</summary>
    static void LoadInferenceWeights(VerifiedCheckpoint checkpoint, nn.Module model)
    {
        var (_, reader) = checkpoint.Claim();
        ReadRngState(reader, checkpoint.Path);
        LoadWeights(reader, model, checkpoint.Path, checkpoint.Header);
        if (ReadAverageLength(reader, checkpoint.Path, checkpoint.Version) > 0) LoadWeights(reader, model, checkpoint.Path, checkpoint.Header);
    }

    /// <summary>The averaged weights' section: its length in bytes (0: none), then the weights in the model's format, so a reader may skip it.</summary>
    static void WriteAverage(BinaryWriter writer, nn.Module? average)
    {
        if (average is null)
        {
            writer.Write(0L);
            return;
        }
        using var buffer = new MemoryStream();
        using (var section = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) average.save(section);
        writer.Write(buffer.Length);
        writer.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    static long ReadAverageLength(BinaryReader reader, string path, int version)
    {
        if (version < 2) return 0;
        long at = reader.BaseStream.Position;
        long length = Read(reader, path, r => r.ReadInt64());
        if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw Damaged(path, $"it claims averaged weights of {length} bytes", at);
        return length;
    }

    static byte[] ReadRngState(BinaryReader reader, string path)
    {
        var content = reader.BaseStream;
        int rngLength = Read(reader, path, r => r.ReadInt32());
        if (rngLength < 0 || rngLength > MaxRngStateBytes || rngLength > content.Length - content.Position)
            throw Damaged(path, $"it claims an RNG state of {rngLength} bytes", content.Position - 4);
        return reader.ReadBytes(rngLength);
    }

    // The stored keys, dtypes and shapes are checked against the model before anything is read into it.
    static void LoadWeights(BinaryReader reader, nn.Module model, string path, CheckpointHeader header)
    {
        var content = reader.BaseStream;
        long weights = content.Position;
        var stored = StoredStateDict.Scan(reader, path);
        StoredStateDict.CheckFits(stored, model.state_dict(), path, header.Model);
        content.Position = weights;
        try
        {
            model.load(reader, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            throw new DataException($"the weights do not fit model '{header.Model}': {e.Message}", path, weights, e);
        }        Interop.WeightFileCheck.RequireSound(model.state_dict(), path);
    }

    /// <summary>
    /// Resolves what the user pointed at: a checkpoint file, or a run folder meaning its latest checkpoint.
    /// Returns null when a run folder has no checkpoint yet.
    /// </summary>
    public static string? Resolve(string fileOrRunFolder)
    {
        if (File.Exists(fileOrRunFolder)) return fileOrRunFolder;
        if (Directory.Exists(fileOrRunFolder))
        {
            string latest = Path.Combine(fileOrRunFolder, LatestFileName);
            return File.Exists(latest) ? latest : null;
        }
        throw new FileNotFoundException($"No checkpoint file or run folder at '{fileOrRunFolder}'.");
    }

    /// <summary>A checkpoint is at most this large (far above any generated model's weights and optimizer state).</summary>
    const long MaxCheckpointBytes = 64L << 30;

    /// <summary>Torch's CPU generator state is about 5 KB.</summary>
    const int MaxRngStateBytes = 1 << 20;

    /// <summary>The JSON header is a few KB.</summary>
    const int MaxHeaderChars = 1 << 20;

    static (CheckpointHeader Header, int Version) ReadPrefix(BinaryReader reader, string path)
    {
        string magic = ReadBoundedString(reader, path, Magic.Length);
        if (magic != Magic) throw NotACheckpoint(path);
        int version = Read(reader, path, r => r.ReadInt32());
        if (version is < 1 or > FormatVersion) throw new DataException($"checkpoint format {version} is not supported (expected 1 to {FormatVersion})", path, reader.BaseStream.Position - 4);
        long at = reader.BaseStream.Position;
        string json = ReadBoundedString(reader, path, MaxHeaderChars);
        CheckpointHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<CheckpointHeader>(json, TrainConfig.Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw Damaged(path, $"its header is not valid ({Printable.OneLine(e.Message)})", at);
        }
        if (header is null || string.IsNullOrWhiteSpace(header.Model) || header.Position is null || header.Config is null)
            throw Damaged(path, "its header lacks the model, position or configuration", at);
        if (header.Position.Epoch < 0 || header.Position.Batch < 0 || header.Position.GlobalStep < 0)
            throw Damaged(path, $"its position (epoch {header.Position.Epoch}, batch {header.Position.Batch}, step {header.Position.GlobalStep}) is negative", at);
        if (header.ClassNames is { } names && names.Any(n => n is null))
            throw Damaged(path, "a class name in its header is null", at);
        return (header, version);
    }

    static string ReadBoundedString(BinaryReader reader, string path, int maxChars)
    {
        long at = reader.BaseStream.Position;
        int length = 0;
        for (int shift = 0; ; shift += 7)
        {
            int b = reader.BaseStream.ReadByte();
            if (b < 0 || shift > 28) throw Damaged(path, "it ends inside a string", at);
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        // UTF-8 takes at most 4 bytes per character.
        if (length < 0 || length > 4L * maxChars || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw at == 0 ? NotACheckpoint(path) : Damaged(path, $"a string claims {length} bytes", at);
        var bytes = new byte[length];
        reader.BaseStream.ReadExactly(bytes);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw at == 0 ? NotACheckpoint(path) : Damaged(path, "a string is not valid UTF-8", at);
        }
    }

    static T Read<T>(BinaryReader reader, string path, Func<BinaryReader, T> read)
    {
        long at = reader.BaseStream.Position;
        try
        {
            return read(reader);
        }
        catch (EndOfStreamException)
        {
            throw Damaged(path, "it ends early", at);
        }
    }

    /// <summary>LibTorch appends its C++ stack to the first line of its errors ("Exception raised from …"); keep only what it says.</summary>
    internal static string FirstLine(string message)
    {
        string line = message.Split('\n', 2)[0];
        int native = line.IndexOf("Exception raised from", StringComparison.Ordinal);
        return (native > 0 ? line[..native] : line).Trim();
    }

    static DataException Damaged(string path, string what, long? offset = null) =>
        new($"checkpoint is damaged: {what}; use an earlier checkpoint", path, offset);

    static DataException NotACheckpoint(string path) =>
        new("not an ArchGen checkpoint (for PyTorch weights use a .pt/.pth or .safetensors file)", path);

    /// <summary>
    /// Opens the file, checks its SHA-256 trailer over everything before it (streaming, nothing held in memory), and
    /// returns a stream over the verified content, which is the only part any parser ever sees. The open handle keeps
    /// reading this very file even when a running training replaces it meanwhile (by renaming a new one over it).
    /// </summary>
    static Stream OpenVerified(string path)
    {
        var file = InputFile.Open(path, MaxCheckpointBytes, "checkpoint");
        try
        {
            long length = file.Length;
            if (length < 32 + 1 + Magic.Length) throw NotACheckpoint(path);
            long contentLength = length - 32;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                long left = contentLength;
                while (left > 0)
                {
                    int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    if (n <= 0) throw Damaged(path, "it ends early");
                    sha.AppendData(buffer, 0, n);
                    left -= n;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            var trailer = new byte[32];
            file.ReadExactly(trailer);
            if (!sha.GetHashAndReset().AsSpan().SequenceEqual(trailer))
            {
                // Ours but damaged, or not ours at all: say which.
                file.Position = 0;
                var start = new byte[1 + Magic.Length];
                file.ReadExactly(start);
                bool ours = start[0] == Magic.Length && start.AsSpan(1).SequenceEqual(Encoding.ASCII.GetBytes(Magic));
                throw ours ? Damaged(path, $"checksum mismatch over {contentLength:N0} bytes") : NotACheckpoint(path);
            }
            file.Position = 0;
            return new BoundedStream(file, contentLength);
        }
        catch (IOException e)
        {
            file.Dispose();
            throw new DataException($"cannot read the checkpoint: {e.Message}", path, innerException: e);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}

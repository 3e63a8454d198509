using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Checkpoints;

/// <summary>Where in training a checkpoint was taken: the next step to run is batch <see cref="Batch"/> of epoch <see cref="Epoch"/>.</summary>
public sealed record TrainingPosition(int Epoch, int Batch, long GlobalStep);

/// <summary>What a checkpoint holds besides the tensors.</summary>
public sealed record CheckpointHeader(string Model, TrainingPosition Position, TrainConfig Config, string CreatedUtc);

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

    /// <summary>Writes a checkpoint atomically; <paramref name="average"/> is the moving average of the weights, when the run keeps one.</summary>
    public static void Save(string path, CheckpointHeader header, nn.Module model, global::TorchSharp.Modules.OptimizerHelper? optimizer, nn.Module? average = null)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
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
            FaultInjection.MaybeStall(header.Position.GlobalStep, temp);
            file.Position = 0;
            byte[] hash = SHA256.HashData(file);
            file.Seek(0, SeekOrigin.End);
            file.Write(hash);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>
    /// Reads only the header: cheap, the file is neither hashed nor loaded (<see cref="Load"/> verifies the checksum).
    /// </summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        try
        {
            return ReadPrefix(reader, path).Header;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{path}: checkpoint is damaged (unreadable header); use an earlier checkpoint.", e);
        }
    }

    /// <summary>
    /// Loads the weights into <paramref name="model"/>, the averaged weights into <paramref name="average"/> (when
    /// given; the checkpoint must hold them), the optimizer state into <paramref name="optimizer"/> (when given) and
    /// restores torch's RNG state.
    /// </summary>
    public static CheckpointHeader Load(string path, nn.Module model, global::TorchSharp.Modules.OptimizerHelper? optimizer, bool restoreRng = true, nn.Module? average = null)
    {
        using var file = OpenVerified(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        var (header, version) = ReadPrefix(reader, path);
        int rngLength = reader.ReadInt32();
        byte[] rng = reader.ReadBytes(rngLength);
        LoadWeights(reader, model, path, header);
        long averageBytes = version >= 2 ? reader.ReadInt64() : 0;
        if (average is not null)
        {
            if (averageBytes == 0) throw new InvalidDataException($"{path}: holds no averaged weights (--ema), so training cannot resume from it with them.");
            LoadWeights(reader, average, path, header);
        }
        else
        {
            reader.BaseStream.Seek(averageBytes, SeekOrigin.Current);
        }
        bool hasOptimizer = reader.ReadBoolean();
        if (optimizer is not null)
        {
            if (!hasOptimizer) throw new InvalidDataException($"{path}: holds no optimizer state, so training cannot resume from it.");
            optimizer.load_state_dict(reader);
        }
        if (restoreRng)
        {
            using var state = torch.tensor(rng, torch.uint8);
            torch.random.set_rng_state(state);
        }
        return header;
    }

    /// <summary>
    /// Loads the weights to evaluate or export into <paramref name="model"/>: the moving average of the weights when
    /// the checkpoint holds one, else the trained weights. Touches neither an optimizer nor torch's RNG.
    /// </summary>
    public static CheckpointHeader LoadInferenceWeights(string path, nn.Module model)
    {
        using var file = OpenVerified(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        var (header, version) = ReadPrefix(reader, path);
        reader.ReadBytes(reader.ReadInt32()); // RNG state
        LoadWeights(reader, model, path, header);
        if (version >= 2 && reader.ReadInt64() > 0) LoadWeights(reader, model, path, header);
        return header;
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

    static void LoadWeights(BinaryReader reader, nn.Module model, string path, CheckpointHeader header)
    {
        try
        {
            model.load(reader, strict: true);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: the weights do not fit model '{header.Model}': {e.Message}", e);
        }
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

    static (CheckpointHeader Header, int Version) ReadPrefix(BinaryReader reader, string path)
    {
        string magic;
        try { magic = reader.ReadString(); }
        catch (Exception e) when (e is EndOfStreamException or IOException) { throw NotACheckpoint(path); }
        if (magic != Magic) throw NotACheckpoint(path);
        int version = reader.ReadInt32();
        if (version is < 1 or > FormatVersion) throw new InvalidDataException($"{path}: checkpoint format {version} is not supported (expected 1 to {FormatVersion}).");
        var header = JsonSerializer.Deserialize<CheckpointHeader>(reader.ReadString(), TrainConfig.Json)
                     ?? throw new InvalidDataException($"{path}: empty checkpoint header.");
        return (header, version);
    }

    /// <summary>
    /// A test hook: with <c>ARCHGEN_CHECKPOINT_STALL_AT_STEP=N</c>, the checkpoint write at global step N stops halfway
    /// (content written, no trailer, not renamed) and waits, so a test can SIGKILL the process mid-write.
    /// </summary>
    static class FaultInjection
    {
        public static void MaybeStall(long step, string temp)
        {
            if (Environment.GetEnvironmentVariable("ARCHGEN_CHECKPOINT_STALL_AT_STEP") is not { } value || value != step.ToString(System.Globalization.CultureInfo.InvariantCulture)) return;
            Console.Error.WriteLine($"ARCHGEN_CHECKPOINT_STALL_AT_STEP: stalling the checkpoint write of step {step} ({temp})");
            Thread.Sleep(Timeout.Infinite);
        }
    }

    static InvalidDataException NotACheckpoint(string path) =>
        new($"{path} is not an ArchGen checkpoint (for PyTorch weights use a .pt/.pth or .safetensors file).");

    // Checks the SHA-256 trailer and returns a stream over the content before it.
    static Stream OpenVerified(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 32 + Magic.Length) throw NotACheckpoint(path);
        var content = new ReadOnlySpan<byte>(bytes, 0, bytes.Length - 32);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
        {
            // Not ours at all, or ours but damaged: say which.
            using var probe = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            string magic;
            try { magic = probe.ReadString(); } catch (Exception) { magic = ""; }
            throw magic == Magic
                ? new InvalidDataException($"{path}: checkpoint is damaged (checksum mismatch over {content.Length} bytes); use an earlier checkpoint.")
                : NotACheckpoint(path);
        }
        return new MemoryStream(bytes, 0, bytes.Length - 32, writable: false);
    }
}

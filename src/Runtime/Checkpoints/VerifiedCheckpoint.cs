namespace ArchGen.Checkpoints;

/// <summary>
/// A checkpoint file opened once, its checksum verified and its header read (<see cref="Checkpoint.Open"/>); its
/// weights are loaded from it once, with <see cref="Checkpoint.Load(VerifiedCheckpoint, TorchSharp.torch.nn.Module, TorchSharp.Modules.OptimizerHelper?, bool, TorchSharp.torch.nn.Module?)"/>.
/// Holds the file open until disposed.
/// </summary>
public sealed class VerifiedCheckpoint : IDisposable
{
    readonly Stream content;
    readonly BinaryReader reader;
    bool claimed;

    internal VerifiedCheckpoint(string path, CheckpointHeader header, int version, Stream content, BinaryReader reader)
    {
        Path = path;
        Header = header;
        Version = version;
        this.content = content;
        this.reader = reader;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>Its header: the model, the training position and the run's settings.</summary>
    public CheckpointHeader Header { get; }

    internal int Version { get; }

    /// <summary>The file positioned after the header, for the one load it allows.</summary>
    internal (Stream Content, BinaryReader Reader) Claim()
    {
        ObjectDisposedException.ThrowIf(!content.CanRead, this);
        if (claimed) throw new InvalidOperationException($"{Path} was already loaded from; open it again to load it again.");
        claimed = true;
        return (content, reader);
    }

    /// <inheritdoc />
    public void Dispose() => reader.Dispose();
}

namespace ArchGen.Data;

/// <summary>A read-only view of the first <c>length</c> bytes of a seekable stream (disposing it disposes the inner stream).</summary>
internal sealed class BoundedStream(Stream inner, long length) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => inner.Position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            inner.Position = Math.Min(value, length);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        long left = length - inner.Position;
        if (left <= 0) return 0;
        return inner.Read(buffer[..(int)Math.Min(buffer.Length, left)]);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => inner.Position + offset,
            _ => length + offset,
        };
        Position = target;
        return Position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

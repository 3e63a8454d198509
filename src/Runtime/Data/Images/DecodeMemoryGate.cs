namespace ArchGen.Data.Images;

/// <summary>
/// A weighted semaphore over decode memory: a decode first takes its estimated bytes (from the header) and gives them
/// back when done, so parallel workers never hold more than the capacity together. A request larger than the capacity
/// waits until nothing else is in flight and then runs alone.
/// </summary>
public sealed class DecodeMemoryGate
{
    readonly object gate = new();
    long inUse;

    /// <summary>Creates a gate holding <paramref name="capacity"/> bytes.</summary>
    public DecodeMemoryGate(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Bytes that decodes in flight may hold together.</summary>
    public long Capacity { get; }

    /// <summary>Bytes currently taken.</summary>
    public long InUse { get { lock (gate) return inUse; } }

    /// <summary>Waits until <paramref name="bytes"/> fit (or nothing else is in flight), takes them, and returns the lease that gives them back.</summary>
    public Lease Take(long bytes)
    {
        long amount = Math.Clamp(bytes, 0, Capacity);
        lock (gate)
        {
            while (inUse > 0 && inUse + amount > Capacity) Monitor.Wait(gate);
            inUse += amount;
        }
        return new Lease(this, amount);
    }

    void Give(long amount)
    {
        lock (gate)
        {
            inUse -= amount;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Bytes taken from a gate; dispose to give them back.</summary>
    public sealed class Lease : IDisposable
    {
        DecodeMemoryGate? owner;
        readonly long amount;

        internal Lease(DecodeMemoryGate owner, long amount)
        {
            this.owner = owner;
            this.amount = amount;
        }

        /// <summary>Gives the bytes back (once).</summary>
        public void Dispose() => Interlocked.Exchange(ref owner, null)?.Give(amount);
    }
}

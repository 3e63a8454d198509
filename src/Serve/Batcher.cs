using System.Diagnostics;
using System.Threading.Channels;

namespace ArchGen.Serve;

/// <summary>
/// Dynamic batching: prepared images wait in a bounded queue; one worker takes the first, waits up to the batch
/// window for more (at most the largest batch) while requests are still being prepared (<see cref="Arriving"/>: their
/// uploads read whole and being decoded, so a slow upload holds no one; the
/// wait ends as soon as the last of them is queued or gone, so a lone request does not wait), runs them through the
/// model as one batch and hands each request its own row of the result. When the queue is full a request is refused
/// at once (the service answers 503). Disposing stops taking new images and finishes the ones queued.
/// </summary>
public sealed class Batcher : IAsyncDisposable
{
    sealed record Job(float[] Image, TaskCompletionSource<float[]> Result);

    readonly Func<float[], int, float[]> run;
    readonly int imageFloats;
    readonly int maxBatch;
    readonly TimeSpan window;
    readonly ServeMetrics metrics;
    readonly Channel<Job> queue;
    readonly Task worker;
    int arriving;
    CancellationTokenSource? waiting; // the worker's wait for more images; cancelled when no request is arriving any more

    /// <param name="run">The model: class probabilities (count x classes) of count images laid end to end (<see cref="ServedModel.Probabilities"/>).</param>
    /// <param name="imageFloats">Floats of one image.</param>
    /// <param name="maxBatch">The largest batch (1: no batching).</param>
    /// <param name="window">How long the first image of a batch waits for others.</param>
    /// <param name="capacity">Images that may wait; more are refused.</param>
    /// <param name="metrics">Where batch sizes and the queue depth are recorded.</param>
    public Batcher(Func<float[], int, float[]> run, int imageFloats, int maxBatch, TimeSpan window, int capacity, ServeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageFloats);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero);
        this.run = run;
        this.imageFloats = imageFloats;
        this.maxBatch = maxBatch;
        this.window = window;
        this.metrics = metrics;
        queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        worker = Task.Run(Work);
    }

    /// <summary>
    /// Marks a request whose upload is read whole and whose image is being prepared, until the result is disposed (after its image is queued,
    /// or when it ends without one): while any is, a batch waits for it (within the window); when none is, the queued
    /// images run at once.
    /// </summary>
    public IDisposable Arriving()
    {
        Interlocked.Increment(ref arriving);
        return new Arrival(this);
    }

    sealed class Arrival(Batcher batcher) : IDisposable
    {
        int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0 && Interlocked.Decrement(ref batcher.arriving) == 0) batcher.StopWaiting();
        }
    }

    /// <summary>Ends the worker's wait for more images (if it is waiting): nothing else is being prepared.</summary>
    void StopWaiting()
    {
        try
        {
            Volatile.Read(ref waiting)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the wait has just ended by itself
        }
    }

    /// <summary>Queues one prepared image; false when the queue is full (or closed). The task gives the image's class probabilities.</summary>
    public bool TryEnqueue(float[] image, out Task<float[]> probabilities)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length != imageFloats) throw new ArgumentException($"An image has {imageFloats} floats, not {image.Length}.", nameof(image));
        var job = new Job(image, new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        probabilities = job.Result.Task;
        if (!queue.Writer.TryWrite(job)) return false;
        metrics.QueueDepth.Set(queue.Reader.Count);
        return true;
    }

    async Task Work()
    {
        var reader = queue.Reader;
        var batch = new List<Job>(maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            long deadline = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
            while (batch.Count < maxBatch)
            {
                if (reader.TryRead(out var job))
                {
                    batch.Add(job);
                    continue;
                }
                var wait = TimeSpan.FromSeconds((double)(deadline - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
                if (batch.Count > 0 && (wait <= TimeSpan.Zero || Volatile.Read(ref arriving) == 0)) break; // the window has passed, or nothing else is coming
                using var timeout = new CancellationTokenSource(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
                Interlocked.Exchange(ref waiting, timeout); // a full fence: a request that stops arriving after this sees the wait and ends it
                try
                {
                    if (Volatile.Read(ref arriving) == 0) continue; // the last one stopped arriving just now: take what it queued, then run
                    if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) break; // closed and empty
                }
                catch (OperationCanceledException)
                {
                    // the window has passed, or no request is arriving any more: the loop takes what is queued and runs
                }
                finally
                {
                    Interlocked.Exchange(ref waiting, null);
                }
            }
            metrics.QueueDepth.Set(reader.Count);
            if (batch.Count > 0) Run(batch);
        }
    }

    void Run(List<Job> batch)
    {
        var images = new float[batch.Count * imageFloats];
        for (int i = 0; i < batch.Count; i++) batch[i].Image.CopyTo(images, i * imageFloats);
        metrics.BatchSize.Observe(batch.Count);
        try
        {
            float[] probabilities = run(images, batch.Count);
            int classes = probabilities.Length / batch.Count;
            for (int i = 0; i < batch.Count; i++) batch[i].Result.SetResult(probabilities.AsSpan(i * classes, classes).ToArray());
        }
        catch (Exception e)
        {
            foreach (var job in batch) job.Result.TrySetException(e);
        }
    }

    /// <summary>Refuses new images and waits until every queued one has its answer.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await worker.ConfigureAwait(false);
    }
}

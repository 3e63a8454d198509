using Xunit;

namespace ArchGen.Serve.Tests;

/// <summary>
/// The batcher's waiting rule on its own, with a window of a minute so that any wait for the window shows: a batch
/// waits while requests are still arriving, and runs as soon as the last of them is queued or gone.
/// </summary>
public sealed class BatcherTests
{
    static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>A model whose one output for an image is twice its one float, batch by batch.</summary>
    static Batcher Doubling(ServeMetrics metrics) => new((images, count) => images.Take(count).Select(x => 2 * x).ToArray(), 1, 8, Window, 16, metrics);

    /// <summary>Lets the worker reach its wait for the requests still arriving (when it is going to wait at all).</summary>
    static Task WorkerSettles() => Task.Delay(300);

    [Fact]
    public async Task ABatchRunsAsSoonAsItsLastArrivingRequestIsQueued()
    {
        var metrics = new ServeMetrics();
        await using var batcher = Doubling(metrics);
        var arriving = batcher.Arriving();
        Assert.True(batcher.TryEnqueue([3f], out var answer));
        await WorkerSettles(); // the worker holds the image and sees the request that queued it still arriving
        arriving.Dispose();
        Assert.Equal(new[] { 6f }, await answer.WaitAsync(Soon));
        Assert.Equal(1, metrics.BatchSize.Count);
    }

    [Fact]
    public async Task ABatchWaitsForARequestStillArrivingAndTakesIt()
    {
        var metrics = new ServeMetrics();
        await using var batcher = Doubling(metrics);
        var first = batcher.Arriving();
        var second = batcher.Arriving();
        Assert.True(batcher.TryEnqueue([1f], out var firstAnswer));
        first.Dispose();
        await WorkerSettles();
        Assert.False(firstAnswer.IsCompleted, "the batch ran while another request was still being prepared");
        Assert.True(batcher.TryEnqueue([5f], out var secondAnswer));
        second.Dispose();
        Assert.Equal(new[] { 2f }, await firstAnswer.WaitAsync(Soon));
        Assert.Equal(new[] { 10f }, await secondAnswer.WaitAsync(Soon));
        Assert.Equal(1, metrics.BatchSize.Count);
        Assert.Equal(2, metrics.BatchSize.Sum);
    }

    [Fact]
    public async Task ARequestThatEndsWithoutAnImageDoesNotHoldTheBatch()
    {
        var metrics = new ServeMetrics();
        await using var batcher = Doubling(metrics);
        var queued = batcher.Arriving();
        var refused = batcher.Arriving(); // say, its upload is not an image
        Assert.True(batcher.TryEnqueue([4f], out var answer));
        queued.Dispose();
        await WorkerSettles();
        refused.Dispose();
        Assert.Equal(new[] { 8f }, await answer.WaitAsync(Soon));
    }
}

using System.Diagnostics;
using Prometheus;

namespace ArchGen.Serve;

/// <summary>
/// The service's Prometheus metrics, in a registry of its own (so two services in one process, as in the tests, count
/// apart): requests by route and status (the status the client received; <c>aborted</c> when it got no answer),
/// request latency, requests in flight, batch sizes, queue depth and resident memory.
/// </summary>
public sealed class ServeMetrics
{
    /// <summary>A fresh registry with every metric at zero.</summary>
    public ServeMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("archgen_http_requests_total", "HTTP requests answered, by route and status code.", "route", "status");
        Latency = factory.CreateHistogram("archgen_http_request_duration_seconds", "Time from a request's arrival to its answer, by route.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        BatchSize = factory.CreateHistogram("archgen_batch_size", "Images per model run (dynamic batching).",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        QueueDepth = factory.CreateGauge("archgen_queue_depth", "Images waiting for the model.");
        InFlight = factory.CreateGauge("archgen_http_requests_in_flight", "HTTP requests being handled.");
        UnansweredAtStop = factory.CreateCounter("archgen_http_requests_unanswered_at_stop_total", "Requests in flight when the service began to stop that ended without an answer (reset at the end of the drain, or their clients left).");
        var resident = factory.CreateGauge("process_resident_memory_bytes", "Resident memory of the process, in bytes.");
        Registry.AddBeforeCollectCallback(() =>
        {
            using var process = Process.GetCurrentProcess();
            resident.Set(process.WorkingSet64);
        });
    }

    /// <summary>The registry <c>GET /metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Requests by route and status.</summary>
    public Counter Requests { get; }

    /// <summary>Latency by route.</summary>
    public Histogram Latency { get; }

    /// <summary>Images per model run.</summary>
    public Histogram BatchSize { get; }

    /// <summary>Images waiting.</summary>
    public Gauge QueueDepth { get; }

    /// <summary>Requests being handled.</summary>
    public Gauge InFlight { get; }

    /// <summary>Requests that ended without an answer while the service was stopping.</summary>
    public Counter UnansweredAtStop { get; }
}

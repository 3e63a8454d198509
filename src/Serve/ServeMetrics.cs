using System.Diagnostics;
using Prometheus;

namespace ArchGen.Serve;

/// <summary>
/// The service's Prometheus metrics, in a registry of its own (so two services in one process, as in the tests, count
/// apart): requests by route and status, request latency, batch sizes, queue depth and resident memory.
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
}

using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ArchGen.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Prometheus;

namespace ArchGen.Serve;

/// <summary>The service's settings (<c>archgen serve</c>'s flags).</summary>
/// <param name="Host">The address to listen on: an IP address, or <c>localhost</c>.</param>
/// <param name="Port">The TCP port (0: any free one).</param>
/// <param name="MaxBatch">The largest batch the model runs (1: no batching).</param>
/// <param name="BatchWindow">How long the first image of a batch waits for others.</param>
/// <param name="MaxUploadBytes">The largest request body; a larger one is refused (413) before it is read whole.</param>
/// <param name="Queue">Images that may wait for the model; beyond that, requests get 503 with Retry-After.</param>
/// <param name="ApiKey">When set, every <c>/v1/</c> request needs it (<c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>).</param>
public sealed record ServeOptions(
    string Host = "127.0.0.1", int Port = 8080, int MaxBatch = 32, TimeSpan BatchWindow = default, long MaxUploadBytes = 20L << 20, int Queue = 256,
    string? ApiKey = null)
{
    /// <summary>The time the service takes to finish requests in flight after a stop request (SIGTERM) before it exits.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(8);

    /// <summary>The default batch window: 5 ms.</summary>
    public static readonly TimeSpan DefaultBatchWindow = TimeSpan.FromMilliseconds(5);
}

/// <summary>
/// <c>archgen serve</c>'s HTTP API (ASP.NET Core minimal APIs on Kestrel): <c>POST /v1/predict</c>,
/// <c>GET /v1/model</c>, <c>GET /healthz</c>, <c>GET /readyz</c> and <c>GET /metrics</c>, and its web page at <c>GET /</c>. Every error is one line of
/// JSON, <c>{"error": "..."}</c>, with its status: 400 (not an image, bad <c>top</c>), 401 (API key), 413 (body too
/// large), 415 (media type), 503 (queue full, with Retry-After). Requests never name files on the server.
/// </summary>
public static class ServeApp
{
    /// <summary>The multipart form field that carries the image.</summary>
    public const string ImageField = "image";

    /// <summary>How the API writes JSON (snake_case names; the model card in the static site too).</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Builds the service for <paramref name="model"/> (which it disposes when it stops). <paramref name="host"/> can
    /// replace the server (the tests' in-memory one); by default Kestrel listens where <paramref name="options"/> say.
    /// </summary>
    public static WebApplication Build(ServedModel model, ServeOptions options, ServeMetrics? metrics = null, Action<IWebHostBuilder>? host = null) =>
        Build(model, options, metrics ?? new ServeMetrics(), host, run: null);

    /// <summary><see cref="Build(ServedModel, ServeOptions, ServeMetrics?, Action{IWebHostBuilder}?)"/> whose batches go through <paramref name="run"/> instead of the model, when given (tests: a model that takes its time).</summary>
    internal static WebApplication Build(ServedModel model, ServeOptions options, ServeMetrics metrics, Action<IWebHostBuilder>? host, Func<float[], int, float[]>? run)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ServeOptions.DrainTimeout);
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes;
            k.AddServerHeader = false;
            if (string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase)) k.ListenLocalhost(options.Port);
            else k.Listen(IPAddress.Parse(options.Host), options.Port);
        });
        host?.Invoke(builder.WebHost);

        var app = builder.Build();
        var window = options.BatchWindow == default ? ServeOptions.DefaultBatchWindow : options.BatchWindow;
        var batcher = new Batcher(run ?? model.Probabilities, model.ImageFloats, options.MaxBatch, window, options.Queue, metrics);
        bool ready = false;
        string? damaged = null; // why the model can answer nothing (its logits are not finite even for a blank image)
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Warm the model up (ONNX Runtime plans its kernels on the first run) before /readyz says so.
            _ = Task.Run(() =>
            {
                if (model.Probabilities(new float[model.ImageFloats], 1).All(float.IsFinite))
                {
                    Volatile.Write(ref ready, true);
                    return;
                }
                Volatile.Write(ref damaged, NonFinite + " even for a blank image: it is damaged for every input");
                Console.Error.WriteLine($"error: {damaged}; /readyz answers 503.");
            });
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
            model.Dispose();
        });

        // Counts every request under the status its client received ("aborted" when the connection ended without an
        // answer), after the error handling below has set it.
        app.Use(async (context, next) =>
        {
            long start = Stopwatch.GetTimestamp();
            metrics.InFlight.Inc();
            bool failedMidAnswer = false;
            try
            {
                await next(context);
            }
            catch
            {
                failedMidAnswer = true; // the answer had begun: the server resets the connection
                throw;
            }
            finally
            {
                bool answered = !failedMidAnswer && !context.Items.ContainsKey(Aborted) && (context.Response.HasStarted || !context.RequestAborted.IsCancellationRequested);
                string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                string status = answered ? context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "aborted";
                if (!answered && app.Lifetime.ApplicationStopping.IsCancellationRequested) metrics.UnansweredAtStop.Inc();
                metrics.Requests.WithLabels(route, status).Inc();
                metrics.Latency.WithLabels(route).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
                metrics.InFlight.Dec(); // last: once nothing is in flight, every request's outcome is counted
            }
        });
        // Every error is one line of JSON: what the server meets below the endpoint (a malformed body: 400, a body too
        // slow: 408, too large: 413), an unexpected exception (500, its message on stderr), and the statuses routing
        // sets without a body (404, 405).
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                await Error(e.StatusCode, e.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => TooLargeMessage(options.MaxUploadBytes),
                    StatusCodes.Status408RequestTimeout => "the request's body arrived too slowly: " + Printable.OneLine(e.Message),
                    _ => "the request is malformed: " + Printable.OneLine(e.Message),
                }).ExecuteAsync(context);
            }
            catch (Exception e) when (context.RequestAborted.IsCancellationRequested || e is OperationCanceledException)
            {
                // The client has gone (or the server reset the connection at the end of its drain): nobody to answer.
                // Kestrel fails the body read ("The request was aborted") before it cancels RequestAborted from the
                // thread pool, and no token of ours cancels anything else, so a cancellation is an abort too.
                context.Items[Aborted] = true;
            }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                Console.Error.WriteLine($"error: {context.Request.Method} {context.Request.Path} failed: {Printable.OneLine(e.Message)} ({e.GetType().Name})");
                context.Response.Clear();
                await Error(StatusCodes.Status500InternalServerError, $"the service failed on this request ({e.GetType().Name}); its log says more").ExecuteAsync(context);
            }
        });
        app.UseStatusCodePages(async pages =>
        {
            var context = pages.HttpContext;
            string message = context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"there is no {context.Request.Path} here; the service answers POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics and /",
                StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}",
                int status => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : $"HTTP {status}",
            };
            await Error(context.Response.StatusCode, WithoutControls(message)).ExecuteAsync(context);
        });
        if (options.ApiKey is { } key)
        {
            byte[] expected = Encoding.UTF8.GetBytes(key);
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.StartsWithSegments("/v1") && !HasKey(context.Request, expected))
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await Error(StatusCodes.Status401Unauthorized, "this service needs an API key: send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'").ExecuteAsync(context);
                    return;
                }
                await next(context);
            });
        }

        // The web page: its markup, the interface, and the classifier that asks this service.
        app.MapGet("/", () => Results.Bytes(PageFiles.Read("index.html"), "text/html; charset=utf-8"));
        app.MapGet("/ui.js", () => Results.Bytes(PageFiles.Read("ui.js"), "text/javascript; charset=utf-8"));
        app.MapGet("/classifier.js", () => Results.Bytes(PageFiles.Read("server.js"), "text/javascript; charset=utf-8"));
        // GET and HEAD: load balancers probe with either.
        app.MapMethods("/healthz", ["GET", "HEAD"], () => Results.Json(new { status = "alive" }, Json));
        app.MapMethods("/readyz", ["GET", "HEAD"], () => Volatile.Read(ref ready)
            ? Results.Json(new { status = "ready" }, Json)
            : Results.Json(new { error = Volatile.Read(ref damaged) ?? "the model is warming up" }, Json, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/v1/model", () => Results.Json(model.Card, Json));
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        Func<HttpContext, Task<IResult>> predict = context => Predict(context, model, batcher, options);
        app.MapPost("/v1/predict", predict);
        return app;
    }

    static bool HasKey(HttpRequest request, byte[] expected)
    {
        string? given = request.Headers["X-Api-Key"].FirstOrDefault();
        string? authorization = request.Headers.Authorization.FirstOrDefault();
        if (given is null && authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) given = authorization["Bearer ".Length..].Trim();
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
    }

    static IResult Error(int status, string message) => Results.Json(new { error = message }, Json, statusCode: status);

    /// <summary>What a request whose logits are not finite is told (as <c>predict</c> says it).</summary>
    const string NonFinite = "the model's logits are not finite (NaN or infinite), so it has no probabilities; the model's weights are damaged";

    /// <summary>A path or method the client sent, echoed without control characters.</summary>
    static string WithoutControls(string text) => new(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>The key of <see cref="HttpContext.Items"/> marking a request whose connection was aborted.</summary>
    static readonly object Aborted = new();

    static async Task<IResult> Predict(HttpContext context, ServedModel model, Batcher batcher, ServeOptions options)
    {
        var request = context.Request;
        int top = 3;
        if (request.Query.TryGetValue("top", out var topText))
        {
            string text = topText.ToString();
            if (text.Length == 0 || !text.All(char.IsAsciiDigit) || text.All(c => c == '0'))
                return Error(StatusCodes.Status400BadRequest, $"top must be a whole number of at least 1 (got '{WithoutControls(text)}')");
            // Any larger count than the model's classes lists them all (a count beyond int's range too).
            top = int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) ? k : int.MaxValue;
        }

        byte[] upload;
        try
        {
            var read = await ReadImage(request, options.MaxUploadBytes, context.RequestAborted);
            if (read.Error is { } error) return error;
            upload = read.Bytes!;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(options.MaxUploadBytes);
        }

        // A batch being formed waits for this image from now on, while it is decoded (the server's own work, a bounded
        // time), not while its body arrives: a slow client does not hold other clients' batches.
        using var arriving = batcher.Arriving();
        float[] image;
        try
        {
            image = model.Prepare(upload);
        }
        catch (DataException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }

        bool queued = batcher.TryEnqueue(image, out var probabilities);
        arriving.Dispose();
        if (!queued)
        {
            context.Response.Headers.RetryAfter = "1";
            return Error(StatusCodes.Status503ServiceUnavailable, $"the queue is full ({options.Queue} images wait for the model); retry in a moment");
        }

        float[] p = await probabilities.WaitAsync(context.RequestAborted);
        if (!p.All(float.IsFinite))
        {
            Console.Error.WriteLine($"error: an image's answer failed: {NonFinite}.");
            return Error(StatusCodes.Status500InternalServerError, NonFinite);
        }
        var best = model.Top(p, top);
        return Results.Json(new
        {
            index = best[0].Index,
            label = best[0].Label,
            probability = Math.Round(best[0].Probability, 6),
            top = best.Select(s => new { index = s.Index, label = s.Label, probability = Math.Round(s.Probability, 6) }).ToArray(),
        }, Json);
    }

    /// <summary>
    /// The image's bytes: the raw body (an <c>image/*</c> or <c>application/octet-stream</c> media type, or none), or
    /// the multipart field <see cref="ImageField"/>. A body whose declared length is over the limit is refused before
    /// any of it is read; one that grows past it is refused as soon as it does.
    /// </summary>
    static async Task<(byte[]? Bytes, IResult? Error)> ReadImage(HttpRequest request, long limit, CancellationToken cancel)
    {
        if (request.ContentLength > limit) return (null, TooLarge(limit));
        string? type = request.ContentType;
        Stream? file = null;
        if (type is not null && MediaTypeHeaderValue.TryParse(type, out var media) && media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { MultipartBodyLengthLimit = limit, BufferBody = false }, cancel);
            }
            catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
            {
                return (null, TooLarge(limit));
            }
            catch (InvalidDataException e)
            {
                return (null, Error(StatusCodes.Status400BadRequest, $"the multipart form is malformed: {Printable.OneLine(e.Message)}"));
            }
            catch (IOException e) when (!cancel.IsCancellationRequested && e is not BadHttpRequestException)
            {
                return (null, Error(StatusCodes.Status400BadRequest, $"the multipart form is malformed: {Printable.OneLine(e.Message)}"));
            }
            var field = form.Files.GetFile(ImageField);
            if (field is null) return (null, Error(StatusCodes.Status400BadRequest, $"the multipart form has no field '{ImageField}' with the image"));
            if (field.Length > limit) return (null, TooLarge(limit));
            file = field.OpenReadStream();
        }
        else if (type is not null && !(MediaTypeHeaderValue.TryParse(type, out media)
            && (media.MediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) || media.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase))))
        {
            return (null, Error(StatusCodes.Status415UnsupportedMediaType,
                $"media type '{type}' is not an image; send the image as the body (image/* or application/octet-stream) or as multipart/form-data field '{ImageField}'"));
        }

        await using (file)
        {
            var body = file ?? request.Body;
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await body.ReadAsync(chunk, cancel)) > 0)
            {
                if (buffer.Length + n > limit) return (null, TooLarge(limit));
                buffer.Write(chunk, 0, n);
            }
            return (buffer.ToArray(), null);
        }
    }

    static IResult TooLarge(long limit) => Error(StatusCodes.Status413PayloadTooLarge, TooLargeMessage(limit));

    static string TooLargeMessage(long limit) =>
        $"the upload is larger than the service's limit of {limit.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes (--max-upload-mb)";
}

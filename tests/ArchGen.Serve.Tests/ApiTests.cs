using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ArchGen.App.Tests;
using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Inference;
using ArchGen.Onnx.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace ArchGen.Serve.Tests;

/// <summary>A service on the in-memory test server, with its client and metrics.</summary>
internal sealed class Service : IAsyncDisposable
{
    Service(WebApplication app, ServeMetrics metrics)
    {
        App = app;
        Client = app.GetTestClient();
        Metrics = metrics;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public ServeMetrics Metrics { get; }

    public static async Task<Service> Start(string onnx, ServeOptions? options = null, ImageLimits? limits = null, Func<float[], int, float[]>? run = null)
    {
        var model = ServedModel.Open(onnx, limits ?? ImageLimits.Default, threads: 1);
        var metrics = new ServeMetrics();
        var app = ServeApp.Build(model, options ?? new ServeOptions(), metrics, host => host.UseTestServer(), run);
        await app.StartAsync();
        return new Service(app, metrics);
    }

    public Task<HttpResponseMessage> Post(byte[] body, string? mediaType = "image/png", string query = "")
    {
        var content = new ByteArrayContent(body);
        if (mediaType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return Client.PostAsync("/v1/predict" + query, content);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>The HTTP API of <c>archgen serve</c>: every endpoint, every error status, batching, the API key.</summary>
public sealed class ApiTests : IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    string Model(bool flipTta = false) => ServedModels.Export(dir[flipTta ? "tta.onnx" : "model.onnx"], flipTta);

    /// <summary>What <c>archgen predict</c> answers for each photo with the same ONNX model (<see cref="ServedModels.Predicted"/>).</summary>
    IReadOnlyList<Prediction> Predicted(string onnx, IReadOnlyList<byte[]> photos) =>
        ServedModels.Predicted(onnx, photos.Select((p, i) => { string f = dir[$"photo{i}.png"]; File.WriteAllBytes(f, p); return f; }).ToList());

    static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    static async Task<string> ErrorOf(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var json = await Json(response);
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        var property = Assert.Single(json.EnumerateObject());
        Assert.Equal("error", property.Name);
        string message = property.Value.GetString()!;
        Assert.DoesNotContain('\n', message);
        return message;
    }

    /// <summary>The service rounds probabilities to 6 decimals, and ONNX Runtime's results for one image vary by about 1e-7 with the batch it is in.</summary>
    static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 2e-6, $"probability {actual} differs from predict's {expected}");

    static void AssertAnswers(JsonElement answer, Prediction expected, int top)
    {
        Assert.Equal(expected.Best.Index, answer.GetProperty("index").GetInt32());
        Assert.Equal(expected.Best.Label, answer.GetProperty("label").GetString());
        Close(expected.Best.Probability, answer.GetProperty("probability").GetDouble());
        var listed = answer.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(top, listed.Count);
        for (int i = 0; i < top; i++)
        {
            Assert.Equal(expected.Top[i].Index, listed[i].GetProperty("index").GetInt32());
            Assert.Equal(expected.Top[i].Label, listed[i].GetProperty("label").GetString());
            Close(expected.Top[i].Probability, listed[i].GetProperty("probability").GetDouble());
        }
        Assert.False(answer.TryGetProperty("path", out _));
    }

    [Fact]
    public async Task HealthReadinessModelCardAndMetrics()
    {
        await using var service = await Service.Start(Model());
        Assert.Equal("alive", (await Json(await service.Client.GetAsync("/healthz"))).GetProperty("status").GetString());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage ready;
        while ((ready = await service.Client.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        var card = await Json(await service.Client.GetAsync("/v1/model"));
        var facts = ModelCatalog.Get(typeof(ServedNet).FullName!).Facts;
        Assert.Equal(facts.Name, card.GetProperty("name").GetString());
        Assert.Equal(ServedModels.Classes, card.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).ToArray());
        Assert.Equal(24, card.GetProperty("input_size").GetInt32());
        Assert.Equal(3, card.GetProperty("input_channels").GetInt32());
        Assert.Equal(0.45, card.GetProperty("mean")[1].GetDouble(), 6);
        Assert.Equal(facts.ParameterCount, card.GetProperty("parameters").GetInt64());
        Assert.Equal(facts.MultiplyAdds, card.GetProperty("multiply_adds").GetInt64());
        Assert.False(card.GetProperty("flip_tta").GetBoolean());
        Assert.Equal(JsonValueKind.Null, card.GetProperty("accuracy").ValueKind); // an .onnx file records no run
        Assert.False(card.TryGetProperty("source", out _)); // no server paths
        Assert.Equal(facts.Layers.Count, card.GetProperty("layers").GetArrayLength());
        Assert.Equal(facts.Layers[1].Kind, card.GetProperty("layers")[1].GetProperty("kind").GetString());
        Assert.Equal(facts.Architecture, card.GetProperty("architecture").GetString());

        // The page: one self-contained file, nothing fetched from elsewhere (it works offline).
        var page = await service.Client.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<label class=\"button\" for=\"photo\">Choose a photo</label>", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);

        Assert.Equal(HttpStatusCode.OK, (await service.Post(ServedModels.Photo(1))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await service.Post([1, 2, 3])).StatusCode);
        var metrics = await service.Client.GetAsync("/metrics");
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        string text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("archgen_http_requests_total{route=\"/v1/predict\",status=\"200\"} 1", text);
        Assert.Contains("archgen_http_requests_total{route=\"/v1/predict\",status=\"400\"} 1", text);
        Assert.Contains("archgen_http_requests_total{route=\"/healthz\",status=\"200\"} 1", text);
        Assert.Contains("archgen_http_request_duration_seconds_count{route=\"/v1/predict\"} 2", text);
        Assert.Contains("archgen_batch_size_count 1", text); // the one image (the warm-up runs the model directly)
        Assert.Contains("archgen_queue_depth 0", text);
        Assert.Matches(@"process_resident_memory_bytes [1-9]", text);
    }

    /// <summary>
    /// The card describes the model loaded, not the catalog's declaration: a model fine-tuned to 3 classes (declared
    /// with 4) has a last layer of 3 outputs, and its parameters and multiply-adds are its own and the sums of its layer
    /// table (the card showed the declared classifier's beside the model's own count).
    /// </summary>
    [Fact]
    public async Task TheModelCardDescribesTheLoadedModelsClassifier()
    {
        string[] classes = ["ant", "bee", "wasp"];
        string onnx = ServedModels.Export(dir["three.onnx"], classes: classes);
        var entry = ModelCatalog.Get(typeof(ServedNet).FullName!);
        long parameters;
        using (var module = entry.Create(classes.Length)) parameters = module.parameters().Sum(p => p.numel());
        await using var service = await Service.Start(onnx);
        var card = await Json(await service.Client.GetAsync("/v1/model"));
        var layers = card.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(entry.Facts.Layers.Count, layers.Count);
        Assert.Equal("3", layers[^1].GetProperty("output_shape").GetString());
        Assert.Equal(parameters, card.GetProperty("parameters").GetInt64());
        Assert.Equal(parameters, layers.Sum(l => l.GetProperty("parameters").GetInt64()));
        Assert.Equal(layers.Sum(l => l.GetProperty("multiply_adds").GetInt64()), card.GetProperty("multiply_adds").GetInt64());
        long features = entry.Facts.Layers[^1].MultiplyAdds / entry.Facts.Classes;
        Assert.Equal(entry.Facts.MultiplyAdds - features * (entry.Facts.Classes - classes.Length), card.GetProperty("multiply_adds").GetInt64());
    }

    /// <summary>Every shipped family's classifier row (a bare Linear, Dropout + Linear, MobileNetV3's hidden Linear) recomputed for 7 classes counts the parameters a 7-class model has.</summary>
    [Fact]
    public void TheCardsFactsForOtherClassesCountWhatAModelWithThemHas()
    {
        foreach (var type in new[] { typeof(ServedNet), typeof(ServedPaperNet), typeof(ServedV3), typeof(ServedEfficientNet) })
        {
            var entry = ModelCatalog.Get(type.FullName!);
            var facts = ServedModel.ForClasses(entry.Facts, 7);
            Assert.NotNull(facts);
            using var module = entry.Create(7);
            Assert.Equal(module.parameters().Sum(p => p.numel()), facts.ParameterCount);
            Assert.Equal(facts.ParameterCount, facts.Layers.Sum(l => l.Parameters));
            Assert.Equal(facts.MultiplyAdds, facts.Layers.Sum(l => l.MultiplyAdds));
            Assert.Equal("7", facts.Layers[^1].OutputShape);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EveryWayToSendAnImageGetsWhatPredictSays(bool flipTta)
    {
        string onnx = Model(flipTta);
        var photos = new[] { ServedModels.Photo(0), ServedModels.Photo(1, 40, 90), ServedModels.Photo(2, 300, 200, jpeg: true), ServedModels.Photo(3, 24, 24) };
        var expected = Predicted(onnx, photos);
        await using var service = await Service.Start(onnx);
        for (int i = 0; i < photos.Length; i++)
        {
            AssertAnswers(await Json(await service.Post(photos[i], i == 2 ? "image/jpeg" : "image/png")), expected[i], 3);
            AssertAnswers(await Json(await service.Post(photos[i], "application/octet-stream", "?top=2")), expected[i], 2);
            AssertAnswers(await Json(await service.Post(photos[i], mediaType: null, "?top=9")), expected[i], 4);
            AssertAnswers(await Json(await service.Post(photos[i], mediaType: null, "?top=100000000000")), expected[i], 4); // beyond int: every class, as any count over them
            using var form = new MultipartFormDataContent { { new ByteArrayContent(photos[i]), ServeApp.ImageField, "photo.png" } };
            AssertAnswers(await Json(await service.Client.PostAsync("/v1/predict?top=1", form)), expected[i], 1);
        }
        AssertDistinguishable(expected);
    }

    /// <summary>The photos' answers differ (by at least 1e-3 in some class's probability), so an answer given to the wrong request shows.</summary>
    static void AssertDistinguishable(IReadOnlyList<Prediction> expected)
    {
        double[] Vector(Prediction p) => p.Top.OrderBy(s => s.Index).Select(s => s.Probability).ToArray();
        for (int i = 0; i < expected.Count; i++)
            for (int j = i + 1; j < expected.Count; j++)
                Assert.True(Vector(expected[i]).Zip(Vector(expected[j]), (a, b) => Math.Abs(a - b)).Max() > 1e-3, $"photos {i} and {j} get the same answer");
    }

    [Fact]
    public async Task EveryBadRequestGetsItsStatusAndOneLineOfJson()
    {
        var options = new ServeOptions(MaxUploadBytes: 50_000);
        await using var service = await Service.Start(Model(), options, limits: new ImageLimits(MaxPixels: 100_000));
        byte[] photo = ServedModels.Photo(1);

        // 413: a declared length over the limit is refused before the body is read; so is a chunked body that grows past it.
        Assert.Contains("50,000 bytes", await ErrorOf(await service.Post(new byte[60_000]), HttpStatusCode.RequestEntityTooLarge));
        var chunked = new StreamContent(new MemoryStream(new byte[60_000]));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/predict") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await ErrorOf(await service.Client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
        using (var big = new MultipartFormDataContent { { new ByteArrayContent(new byte[60_000]), ServeApp.ImageField, "big.png" } })
            await ErrorOf(await service.Client.PostAsync("/v1/predict", big), HttpStatusCode.RequestEntityTooLarge);

        // 400: not an image, truncated, empty, over the decoder's pixel limit (from the header), a bad top.
        Assert.Contains("uploaded image", await ErrorOf(await service.Post("hello, world"u8.ToArray()), HttpStatusCode.BadRequest));
        await ErrorOf(await service.Post(photo[..(photo.Length / 2)]), HttpStatusCode.BadRequest);
        Assert.Contains("empty", await ErrorOf(await service.Post([]), HttpStatusCode.BadRequest));
        Assert.Contains("pixels", await ErrorOf(await service.Post(ServedModels.Photo(1, 400, 300)), HttpStatusCode.BadRequest));
        foreach (string top in new[] { "0", "-1", "two", "1.5" })
            Assert.Contains("top", await ErrorOf(await service.Post(photo, query: "?top=" + top), HttpStatusCode.BadRequest));
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(photo), "picture", "photo.png" } })
            Assert.Contains("'image'", await ErrorOf(await service.Client.PostAsync("/v1/predict", form), HttpStatusCode.BadRequest));

        // 415: a media type that is not an image.
        Assert.Contains("text/plain", await ErrorOf(await service.Post(photo, "text/plain"), HttpStatusCode.UnsupportedMediaType));
        await ErrorOf(await service.Post(photo, "application/json"), HttpStatusCode.UnsupportedMediaType);

        // Nothing of the above stays behind: the next image is answered, and nothing waits.
        Assert.Equal(HttpStatusCode.OK, (await service.Post(photo)).StatusCode);
        Assert.Equal(0, service.Metrics.QueueDepth.Value);
    }

    /// <summary>One request written on a socket as it is (<paramref name="request"/>, with <c>Connection: close</c>); the status and body of the answer (0 and empty when there is none).</summary>
    static async Task<(int Status, string Body)> Raw(string url, string request)
    {
        var uri = new Uri(url);
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(uri.Host, uri.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        string answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (answer.Length == 0) return (0, ""); // no answer at all
        int status = int.Parse(answer.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        int end = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string body = answer[(end + 4)..];
        if (!answer[..end].Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)) return (status, body);
        var whole = new System.Text.StringBuilder(); // ASCII and UTF-8 alike for the sizes; the tests' bodies are ASCII
        for (int at = 0; ;)
        {
            int line = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            int size = int.Parse(body[at..line], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if (size == 0) return (status, whole.ToString());
            whole.Append(body, line + 2, size);
            at = line + 2 + size + 2;
        }
    }

    static void OneLineOfJson(string body, string what)
    {
        Assert.False(string.IsNullOrEmpty(body), $"{what}: an empty body");
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("error", Assert.Single(json.EnumerateObject()).Name);
        Assert.DoesNotContain('\n', body.TrimEnd('\n'));
    }

    static async Task<string> Metrics(HttpClient client) => await (await client.GetAsync("/metrics")).Content.ReadAsStringAsync();

    /// <summary>
    /// Errors the server meets below the endpoint (a malformed chunked body, a malformed multipart body, no such route,
    /// a method the route does not take) are one line of JSON like the endpoint's own, and /metrics counts each under
    /// the status the client received (the middleware read the status before the server set it: 200). HEAD /healthz is
    /// what load balancers probe with.
    /// </summary>
    [Fact]
    public async Task ServerErrorsAreOneLineOfJsonAndCountedUnderTheStatusTheClientGot()
    {
        var metrics = new ServeMetrics();
        var model = ServedModel.Open(Model(), ImageLimits.Default, threads: 1);
        await using var app = ServeApp.Build(model, new ServeOptions(Port: 0), metrics);
        await app.StartAsync();
        string url = app.Urls.Single();
        using var client = new HttpClient { BaseAddress = new Uri(url) };

        var chunked = await Raw(url, "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n"); // nothing after the bad size: the server reads it all (unread bytes at its close would reset the answer)
        Assert.Equal(400, chunked.Status);
        OneLineOfJson(chunked.Body, "a malformed chunked body");

        var noBoundary = new ByteArrayContent(ServedModels.Photo(1));
        noBoundary.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data");
        var response = await client.PostAsync("/v1/predict", noBoundary);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        OneLineOfJson(await response.Content.ReadAsStringAsync(), "multipart without a boundary");

        var unclosed = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n\r\nabc"u8.ToArray());
        unclosed.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        response = await client.PostAsync("/v1/predict", unclosed);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        OneLineOfJson(await response.Content.ReadAsStringAsync(), "an unclosed multipart part");

        response = await client.GetAsync("/nowhere");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        OneLineOfJson(await response.Content.ReadAsStringAsync(), "404");
        response = await client.DeleteAsync("/v1/predict");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        OneLineOfJson(await response.Content.ReadAsStringAsync(), "405");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"))).StatusCode);

        string text = await Metrics(client);
        Assert.Contains("archgen_http_requests_total{route=\"/v1/predict\",status=\"400\"} 3", text);
        Assert.DoesNotContain("route=\"/v1/predict\",status=\"200\"", text);
        Assert.Contains("status=\"404\"} 1", text);
        Assert.Contains("status=\"405\"} 1", text);
        await app.StopAsync();
    }

    /// <summary>
    /// Kestrel reports a connection it aborted (the drain's end, a client gone) to the body read first, as a
    /// TaskCanceledException "The request was aborted", and cancels RequestAborted later, from the thread pool: under
    /// load the read fails before the token says so (a CI run: a reset upload was answered "500" and the stop said every
    /// request was answered). Such a request is counted as aborted, not answered with a 500.
    /// </summary>
    [Fact]
    public async Task ARequestWhoseConnectionWasAbortedIsCountedAsAbortedEvenBeforeKestrelCancelsItsToken()
    {
        var metrics = new ServeMetrics();
        var model = ServedModel.Open(Model(), ImageLimits.Default, threads: 1);
        await using var app = ServeApp.Build(model, new ServeOptions(), metrics, host => host.UseTestServer().ConfigureServices(services =>
            services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new AbortedBodyFilter())));
        await app.StartAsync();
        using var client = app.GetTestClient();
        var content = new ByteArrayContent(ServedModels.Photo(1));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        var response = await client.PostAsync("/v1/predict", content);
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        string text = await Metrics(client);
        Assert.Contains("archgen_http_requests_total{route=\"/v1/predict\",status=\"aborted\"} 1", text);
        Assert.DoesNotContain("status=\"500\"", text);
        await app.StopAsync();
    }

    /// <summary>Every request's body fails as Kestrel's does when its connection was aborted, with RequestAborted not yet cancelled.</summary>
    sealed class AbortedBodyFilter : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (context.Request.Path.StartsWithSegments("/v1/predict")) context.Request.Body = new AbortedStream();
                return following(context);
            });
            next(app);
        };
    }

    sealed class AbortedStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new TaskCanceledException("The request was aborted"));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException<int>(new TaskCanceledException("The request was aborted"));
    }

    /// <summary>
    /// A model whose logits are not finite (its classifier's bias NaN): each request is a 500 with one line saying so,
    /// counted as a 500, and /readyz says the model is not ready (it is damaged for every input), as predict refuses it.
    /// </summary>
    [Fact]
    public async Task NonFiniteLogitsAreA500ThatSaysSoAndTheModelIsNotReady()
    {
        string onnx = ServedModels.Export(dir["nan.onnx"], nanBias: true);
        await using var service = await Service.Start(onnx);
        var response = await service.Post(ServedModels.Photo(1));
        Assert.Contains("not finite", await ErrorOf(response, HttpStatusCode.InternalServerError));
        Assert.Contains("route=\"/v1/predict\",status=\"500\"} 1", await Metrics(service.Client));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage ready;
        while ((ready = await service.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable
            && (await ready.Content.ReadAsStringAsync()).Contains("warming up", StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains("not finite", await ErrorOf(ready, HttpStatusCode.ServiceUnavailable));
    }

    [Fact]
    public async Task WithAKeyEveryV1RequestNeedsIt()
    {
        await using var service = await Service.Start(Model(), new ServeOptions(ApiKey: "s3cret key"));
        byte[] photo = ServedModels.Photo(0);
        var missing = await service.Post(photo);
        Assert.Contains("API key", await ErrorOf(missing, HttpStatusCode.Unauthorized));
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        await ErrorOf(await service.Client.GetAsync("/v1/model"), HttpStatusCode.Unauthorized);

        service.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        await ErrorOf(await service.Post(photo), HttpStatusCode.Unauthorized);
        service.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret key");
        Assert.Equal(HttpStatusCode.OK, (await service.Post(photo)).StatusCode);
        service.Client.DefaultRequestHeaders.Authorization = null;
        service.Client.DefaultRequestHeaders.Add("X-Api-Key", "s3cret key");
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/v1/model")).StatusCode);
        service.Client.DefaultRequestHeaders.Remove("X-Api-Key");
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/healthz")).StatusCode); // probes need no key
    }

    [Fact]
    public async Task AFullQueueIsRefusedWithRetryAfterAndTheQueuedRequestsAreStillAnswered()
    {
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim(false);
        ServedModel? served = null;
        float[] Slow(float[] images, int count)
        {
            entered.Release();
            release.Wait(TimeSpan.FromSeconds(30));
            return served!.Probabilities(images, count);
        }

        await using var service = await Service.Start(Model(), new ServeOptions(MaxBatch: 1, Queue: 1), run: Slow);
        served = ServedModel.Open(dir["model.onnx"], ImageLimits.Default, 1);
        using (served)
        {
            var running = service.Post(ServedModels.Photo(0));    // the model holds it
            Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)));
            var queued = service.Post(ServedModels.Photo(1));     // waits in the queue
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (service.Metrics.QueueDepth.Value < 1 && DateTime.UtcNow < deadline) await Task.Delay(10);
            var refused = await service.Post(ServedModels.Photo(2)); // the queue is full
            Assert.Contains("queue is full", await ErrorOf(refused, HttpStatusCode.ServiceUnavailable));
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
            release.Set();
            Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await queued).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await service.Post(ServedModels.Photo(2))).StatusCode);
        }
    }

    /// <summary>A batch waits for images still being prepared, not for a window no other request will fill: with a 60 s window, lone requests are answered long before it ends.</summary>
    [Fact]
    public async Task ALoneRequestDoesNotWaitForTheBatchWindow()
    {
        await using var service = await Service.Start(Model(), new ServeOptions(BatchWindow: TimeSpan.FromSeconds(60)));
        for (int i = 0; i < 3; i++)
        {
            using var content = new ByteArrayContent(ServedModels.Photo(i));
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, (await service.Client.PostAsync("/v1/predict", content, limit.Token)).StatusCode);
        }
        Assert.Equal(3, service.Metrics.BatchSize.Count);
    }

    /// <summary>An upload that sends its first bytes, then waits until it is told to finish.</summary>
    sealed class TricklingContent(byte[] bytes, Task finish) : HttpContent
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, 16));
            await stream.FlushAsync();
            Started.TrySetResult();
            await finish;
            await stream.WriteAsync(bytes.AsMemory(16));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// A batch does not wait for another client's upload that is still arriving: with a 60 s window and one upload
    /// stalled mid-body, other lone requests are answered long before the window ends (they sat it out whole while any
    /// upload was being read), and the stalled one is answered once its body arrives.
    /// </summary>
    [Fact]
    public async Task ASlowUploadDoesNotMakeOtherRequestsWaitForTheBatchWindow()
    {
        await using var service = await Service.Start(Model(), new ServeOptions(BatchWindow: TimeSpan.FromSeconds(60)));
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new TricklingContent(ServedModels.Photo(0), finish.Task);
        slow.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var slowAnswer = service.Client.PostAsync("/v1/predict", slow);
        await slow.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        for (int i = 1; i <= 2; i++)
        {
            using var content = new ByteArrayContent(ServedModels.Photo(i));
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, (await service.Client.PostAsync("/v1/predict", content, limit.Token)).StatusCode);
        }
        Assert.False(slowAnswer.IsCompleted);
        finish.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await slowAnswer.WaitAsync(TimeSpan.FromSeconds(30))).StatusCode);
    }

    [Fact]
    public async Task ConcurrentClientsAreBatchedAndEachGetsItsOwnAnswer()
    {
        string onnx = Model(flipTta: true);
        var photos = Enumerable.Range(0, 8).Select(k => ServedModels.Photo(k, 40 + 7 * k, 60)).ToArray();
        var expected = Predicted(onnx, photos);
        AssertDistinguishable(expected);
        await using var service = await Service.Start(onnx, new ServeOptions(MaxBatch: 16, BatchWindow: TimeSpan.FromMilliseconds(50)));
        const int Requests = 48;
        var answers = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async i =>
        {
            var response = await service.Post(photos[i % photos.Length], query: "?top=4");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (i, await Json(response));
        }));
        foreach (var (i, answer) in answers) AssertAnswers(answer, expected[i % photos.Length], 4);
        double batches = service.Metrics.BatchSize.Count;
        Assert.Equal(Requests, service.Metrics.BatchSize.Sum);
        Assert.True(batches < Requests, $"{Requests} concurrent requests ran in {batches} batches: none was batched");
    }
}

using System.CommandLine;
using System.Globalization;
using System.Net;
using ArchGen.App.Cli;
using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Serve;
using ArchGen.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using TorchSharp;

namespace ArchGen.App.Commands;

/// <summary><c>archgen serve</c>: a trained model behind an HTTP API with dynamic batching and Prometheus metrics, until Ctrl+C or SIGTERM.</summary>
public static class ServeCommand
{
    /// <summary>The largest batch, upload, window and queue accepted: bounds on what a flag can make the service hold.</summary>
    const int MaxBatchLimit = 1024, MaxUploadMbLimit = 1024, MaxWindowMs = 1000, MaxQueue = 100_000;

    public static Command Create()
    {
        var modelFile = new Option<string>("--model-file", "--checkpoint", "-c") { Description = "An exported .onnx model, or a checkpoint or run folder (exported to ONNX in memory). It runs in ONNX Runtime.", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on: an IP address, or localhost. The default serves this machine only; 0.0.0.0 serves every network it is on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = CommonOptions.Checked(new Option<int>("--port") { Description = "TCP port (0: any free one; the address is printed).", DefaultValueFactory = _ => 8080 },
            p => p is < 0 or > 65535 ? $"--port must be 0 to 65535 (got {p.ToString(CultureInfo.InvariantCulture)})." : null);
        var maxBatch = CommonOptions.Checked(new Option<int>("--max-batch") { Description = "Most images the model runs at once (1: no batching).", DefaultValueFactory = _ => 32 },
            b => b is < 1 or > MaxBatchLimit ? $"--max-batch must be 1 to {MaxBatchLimit} (got {b.ToString(CultureInfo.InvariantCulture)})." : null);
        var window = CommonOptions.Checked(new Option<double>("--batch-window-ms") { Description = "How long the first image of a batch waits for others, in milliseconds.", DefaultValueFactory = _ => 5 },
            w => !(w >= 0 && w <= MaxWindowMs) ? $"--batch-window-ms must be 0 to {MaxWindowMs} (got {w.ToString(CultureInfo.InvariantCulture)})." : null);
        var maxUpload = CommonOptions.Checked(new Option<double>("--max-upload-mb") { Description = "Largest request body in MiB; a larger one is refused (413) before it is read whole.", DefaultValueFactory = _ => 20 },
            m => !(m > 0 && m <= MaxUploadMbLimit) ? $"--max-upload-mb must be above 0 and at most {MaxUploadMbLimit} (got {m.ToString(CultureInfo.InvariantCulture)})." : null);
        var queue = CommonOptions.Checked(new Option<int>("--queue") { Description = "Images that may wait for the model; beyond that, requests get 503 with Retry-After.", DefaultValueFactory = _ => 256 },
            q => q is < 1 or > MaxQueue ? $"--queue must be 1 to {MaxQueue} (got {q.ToString(CultureInfo.InvariantCulture)})." : null);
        var apiKeyFile = new Option<string>("--api-key-file") { Description = "File whose first line is the API key every /v1/ request must send (Authorization: Bearer KEY, or X-Api-Key: KEY)." };
        var threads = CommonOptions.Threads();
        var command = new Command("serve", "Serve a model over HTTP: POST /v1/predict (an image as the body or multipart field 'image'; ?top=K), GET /v1/model, /healthz, /readyz, /metrics. Ctrl+C or SIGTERM stops it after the requests in flight.")
        {
            modelFile, host, port, maxBatch, window, maxUpload, queue, apiKeyFile, threads,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            string address = parse.GetValue(host)!;
            if (!string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(address, out _))
                throw new ArgumentException($"--host must be an IP address or localhost (got '{address}').");
            string? key = parse.GetValue(apiKeyFile) is { } keyFile ? ReadKey(keyFile) : null;
            var options = new ServeOptions(address, parse.GetValue(port), parse.GetValue(maxBatch), TimeSpan.FromMilliseconds(parse.GetValue(window)),
                (long)(parse.GetValue(maxUpload) * (1 << 20)), parse.GetValue(queue), key);
            int onnxThreads = Devices.Threads(parse.GetValue(threads));
            // LibTorch computes only the softmax here (and a checkpoint's in-memory export): one thread. With more, its
            // OpenMP threads spin after every batch and take the cores from ONNX Runtime's (batches of 2 to 4 ran 2 to 4
            // times slower per image).
            torch.set_num_threads(1);
            var model = ServedModel.Open(parse.GetValue(modelFile)!, ImageLimits.Default, onnxThreads);
            WebApplication app;
            try
            {
                app = ServeApp.Build(model, options);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            Interruption.StoppingMessage = "Stopping: no new requests; the ones in flight are answered (Ctrl+C again exits at once).";
            using (app as IDisposable)
            {
                app.StartAsync(Interruption.Token).GetAwaiter().GetResult();
                var card = model.Card;
                Console.Error.WriteLine(Printable.Text($"Serving {card.Name} ({card.Classes.Count} classes, {card.InputChannels}x{card.InputSize}x{card.InputSize}{(card.FlipTta ? ", flip TTA" : "")}) from {card.Source} on {string.Join(", ", app.Urls)}: "
                    + $"POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics; max batch {options.MaxBatch}, window {parse.GetValue(window).ToString(CultureInfo.InvariantCulture)} ms, queue {options.Queue}{(key is null ? "" : ", API key required")}."));
                app.WaitForShutdownAsync(Interruption.Token).GetAwaiter().GetResult();
            }
            Console.Error.WriteLine("Stopped: every request in flight was answered.");
            return ExitCodes.Success;
        }, endsOnStop: true));
        return command;
    }

    /// <summary>The key: the file's first line, trimmed.</summary>
    static string ReadKey(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--api-key-file {path} does not exist.");
        if (new FileInfo(path).Length > 64 << 10) throw new ArgumentException($"--api-key-file {path} is larger than 64 KiB; it should hold one line, the key.");
        string key = File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";
        if (key.Length == 0) throw new ArgumentException($"--api-key-file {path} has an empty first line; write the key on it.");
        return key;
    }
}

using System.Net.Http.Headers;
using System.Text.Json;
using ArchGen.App.Tests;
using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Inference;
using ArchGen.Onnx.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using TorchSharp;

namespace ArchGen.Serve.Tests;

/// <summary>
/// The web page in a real browser: Debian's chromium, headless, driven by Selenium through chromium-driver (no browser
/// download). <c>ARCHGEN_REQUIRE_BROWSER=1</c> (CI) makes a missing browser a failure instead of a skip.
/// </summary>
public sealed class BrowserTests : IDisposable
{
    const string Chromium = "/usr/bin/chromium", Driver = "/usr/bin/chromedriver";

    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>Where screenshots go: <c>TestResults/screenshots</c> beside the test assembly's project (CI keeps them).</summary>
    static string Screenshots
    {
        get
        {
            string path = Path.Combine(AppProcess.RepositoryRoot, "tests", "ArchGen.Serve.Tests", "TestResults", "screenshots");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    static void RequireBrowser()
    {
        bool available = File.Exists(Chromium) && File.Exists(Driver);
        if (Environment.GetEnvironmentVariable("ARCHGEN_REQUIRE_BROWSER") == "1")
            Assert.True(available, $"ARCHGEN_REQUIRE_BROWSER=1 but {Chromium} or {Driver} is missing (apt-get install chromium chromium-driver)");
        Skip.IfNot(available, "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
    }

    static ChromeDriver Browser()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1100", "--lang=en-US");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    [SkippableFact]
    public async Task ThePageShowsTheClassesTheApiAndPredictGive()
    {
        RequireBrowser();
        string onnx = ServedModels.Export(dir["model.onnx"], flipTta: true);
        string photo = dir["photo.jpg"];
        File.WriteAllBytes(photo, ServedModels.Photo(2, 320, 240, jpeg: true));

        var expected = ServedModels.Predicted(onnx, [photo]).Single(); // what predict says

        var model = ServedModel.Open(onnx, ImageLimits.Default, threads: 1);
        await using var app = ServeApp.Build(model, new ServeOptions(Port: 0));
        await app.StartAsync();
        string url = app.Urls.Single();

        // What the API says.
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var content = new ByteArrayContent(File.ReadAllBytes(photo));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        var api = JsonDocument.Parse(await (await client.PostAsync("/v1/predict?top=5", content)).Content.ReadAsStringAsync()).RootElement;

        using var browser = Browser();
        browser.Navigate().GoToUrl(url + "/");
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(60));
        wait.Until(b => b.FindElement(By.Id("title")).Text == model.Card.Name);
        Assert.Equal(model.Card.Layers.Count, browser.FindElements(By.CssSelector("#layers tbody tr")).Count);
        Assert.Equal(model.Card.Parameters!.Value.ToString("N0", System.Globalization.CultureInfo.GetCultureInfo("en-US")), browser.FindElement(By.Id("card-parameters")).Text);

        browser.FindElement(By.Id("photo")).SendKeys(photo);
        wait.Until(b => b.FindElements(By.CssSelector("#classes li")).Count == 4);
        var shown = browser.FindElements(By.CssSelector("#classes li")).Select(li => (
            Label: li.FindElement(By.CssSelector(".label")).Text,
            Probability: double.Parse(li.GetDomAttribute("data-probability")!, System.Globalization.CultureInfo.InvariantCulture),
            Text: li.FindElement(By.CssSelector(".probability")).Text)).ToList();

        var apiTop = api.GetProperty("top").EnumerateArray().ToList();
        for (int i = 0; i < shown.Count; i++)
        {
            Assert.Equal(apiTop[i].GetProperty("label").GetString(), shown[i].Label);
            Assert.Equal(apiTop[i].GetProperty("probability").GetDouble(), shown[i].Probability);
            Assert.Equal(expected.Top[i].Label, shown[i].Label);
            Assert.True(Math.Abs(expected.Top[i].Probability - shown[i].Probability) <= 2e-6, $"{shown[i].Label}: the page shows {shown[i].Probability}, predict says {expected.Top[i].Probability}");
            Assert.Equal((100 * shown[i].Probability).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " %", shown[i].Text);
        }
        Assert.Contains(expected.Best.Label, browser.FindElement(By.Id("status")).Text);
        browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, "serve-page.png"));

        // A file that is not an image: the service's one-line error, shown as such.
        string bad = dir["notes.png"];
        File.WriteAllText(bad, "not a picture");
        browser.FindElement(By.Id("photo")).SendKeys(bad);
        wait.Until(b => b.FindElement(By.Id("status")).GetAttribute("class") == "error");
        Assert.Contains("uploaded image", browser.FindElement(By.Id("status")).Text);
        await app.StopAsync();
    }

    [SkippableFact]
    public async Task WithAKeyThePageAsksForItAndThenClassifies()
    {
        RequireBrowser();
        string onnx = ServedModels.Export(dir["model.onnx"]);
        string photo = dir["photo.png"];
        File.WriteAllBytes(photo, ServedModels.Photo(1));
        var model = ServedModel.Open(onnx, ImageLimits.Default, threads: 1);
        await using var app = ServeApp.Build(model, new ServeOptions(Port: 0, ApiKey: "open sesame"));
        await app.StartAsync();

        using var browser = Browser();
        browser.Navigate().GoToUrl(app.Urls.Single() + "/");
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(60));
        wait.Until(b => b.FindElement(By.Id("key-form")).Displayed);
        Assert.Equal(browser.SwitchTo().ActiveElement(), browser.FindElement(By.Id("key"))); // focus goes to the key field
        Assert.Contains("needs an API key", browser.FindElement(By.Id("status")).Text);
        browser.FindElement(By.Id("key")).SendKeys("open sesam" + Keys.Enter); // a wrong key is said to be refused, not needed again
        wait.Until(b => b.FindElement(By.Id("status")).Text.Contains("refused this API key", StringComparison.Ordinal));
        wait.Until(b => b.FindElement(By.Id("key-form")).Displayed);
        browser.FindElement(By.Id("key")).Clear();
        browser.FindElement(By.Id("key")).SendKeys("open sesame" + Keys.Enter);
        wait.Until(b => b.FindElement(By.Id("title")).Text == model.Card.Name);
        browser.FindElement(By.Id("photo")).SendKeys(photo);
        wait.Until(b => b.FindElements(By.CssSelector("#classes li")).Count == 4);
        await app.StopAsync();
    }

    /// <summary>A static web server for <paramref name="root"/> on a free port (what a user hosts the site with), knowing .mjs, .wasm and .onnx.</summary>
    static async Task<WebApplication> StaticServer(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".mjs"] = "text/javascript";
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".onnx"] = "application/octet-stream";
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root), ContentTypeProvider = types });
        await app.StartAsync();
        return app;
    }

    /// <summary>Opens the static site at <paramref name="url"/> and waits until its model is loaded (or says why not).</summary>
    static WebDriverWait OpenSite(ChromeDriver browser, string url)
    {
        browser.Navigate().GoToUrl(url);
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(120));
        try
        {
            wait.Until(b => b.FindElement(By.TagName("body")).GetDomAttribute("data-ready") == "true");
        }
        catch (WebDriverTimeoutException)
        {
            // Say why: the page's status line and the browser's console.
            string console = string.Join("\n", browser.Manage().Logs.GetLog(LogType.Browser).Select(e => e.Message));
            throw new Xunit.Sdk.XunitException($"the site did not load its model: {browser.FindElement(By.Id("status")).Text}\n{console}");
        }
        return wait;
    }

    /// <summary>
    /// Transparent pixels keep their colour, as <c>predict</c> reads them (PIL's <c>convert("RGB")</c>): a canvas
    /// premultiplies alpha, so a pixel with alpha 0 came back black. An RGBA PNG of colour (200, 30, 30) with alpha 0, a
    /// palette PNG with transparent and half-transparent colours, a gray + alpha PNG and an RGBA one with every alpha:
    /// the site's probabilities are predict's within the README's 1e-3.
    /// </summary>
    [SkippableFact]
    public async Task TheStaticSiteReadsTransparentImagesAsPredictDoes()
    {
        RequireBrowser();
        string onnx = ServedModels.Export(dir["model.onnx"], flipTta: true);
        string site = dir["site"];
        StaticSite.Write(onnx, site);
        byte[] palette = [200, 30, 30, 20, 180, 60, 240, 240, 20, 30, 60, 200];
        var images = new (string Name, byte[] Bytes)[]
        {
            ("transparent.png", ServedModels.Png(40, 40, 6, (x, y) => [200, 30, 30, 0])),
            ("palette.png", ServedModels.Png(48, 36, 3, (x, y) => [(byte)((x / 6 + y / 6) % 4)], palette, transparency: [0, 128, 255])),
            ("gray-alpha.png", ServedModels.Png(50, 30, 4, (x, y) => [(byte)(x * 5), (byte)(y * 9 % 256)])),
            ("rgba.png", ServedModels.Png(33, 47, 6, (x, y) => [(byte)(x * 7), (byte)(y * 5), (byte)(x * y % 256), (byte)((x + y) * 4 % 256)])),
        };
        var files = images.Select(i => { string path = dir[i.Name]; File.WriteAllBytes(path, i.Bytes); return path; }).ToList();
        var expected = ServedModels.Predicted(onnx, files);

        // The first image tells transparency read as black from its colour: predict's answers for the two differ.
        string black = dir["black.png"];
        File.WriteAllBytes(black, ServedModels.Png(40, 40, 2, (x, y) => [0, 0, 0]));
        var blackAnswer = ServedModels.Predicted(onnx, [black]).Single();
        Assert.True(expected[0].Top.Max(s => Math.Abs(s.Probability - blackAnswer.Top.Single(b => b.Index == s.Index).Probability)) > 1e-2,
            "the model gives a black image the answer of (200, 30, 30): the test could not tell them apart");

        await using var server = await StaticServer(site);
        using var browser = Browser();
        var wait = OpenSite(browser, server.Urls.Single() + "/index.html");
        var failures = new List<string>();
        for (int i = 0; i < images.Length; i++)
        {
            browser.FindElement(By.Id("photo")).SendKeys(files[i]);
            wait.Until(b => b.FindElement(By.Id("status")).Text.StartsWith(images[i].Name + ":", StringComparison.Ordinal));
            foreach (var li in browser.FindElements(By.CssSelector("#classes li")))
            {
                int index = int.Parse(li.GetDomAttribute("data-index")!, System.Globalization.CultureInfo.InvariantCulture);
                double p = double.Parse(li.GetDomAttribute("data-probability")!, System.Globalization.CultureInfo.InvariantCulture);
                double want = expected[i].Top.Single(s => s.Index == index).Probability;
                if (Math.Abs(p - want) > 1e-3) failures.Add($"{images[i].Name}, class {index}: the browser says {p}, predict {want}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await server.StopAsync();
    }

    /// <summary>
    /// The site refuses the image <c>predict</c> refuses (over PIL's pixel limit: 9500 x 9500, from its header), saying
    /// so; and opened from a file it says it must be served over HTTP, not ONNX Runtime's "no available backend".
    /// </summary>
    [SkippableFact]
    public async Task TheStaticSiteRefusesWhatPredictRefusesAndSaysItMustBeServed()
    {
        RequireBrowser();
        string onnx = ServedModels.Export(dir["model.onnx"]);
        string site = dir["site"];
        StaticSite.Write(onnx, site);
        string huge = dir["huge.png"];
        File.WriteAllBytes(huge, ServedModels.Png(9500, 9500, 0, (x, y) => [0]));
        var refused = Assert.Throws<DataException>(() => ServedModels.Predicted(onnx, [huge]));
        Assert.Contains("pixels", refused.Message);

        await using var server = await StaticServer(site);
        using var browser = Browser();
        var wait = OpenSite(browser, server.Urls.Single() + "/index.html");
        browser.FindElement(By.Id("photo")).SendKeys(huge);
        wait.Until(b => b.FindElement(By.Id("status")).GetAttribute("class") == "error");
        string status = browser.FindElement(By.Id("status")).Text;
        Assert.Contains("huge.png", status);
        Assert.Contains("90,250,000 pixels", status);
        await server.StopAsync();

        browser.Navigate().GoToUrl(new Uri(Path.Combine(site, "index.html")).AbsoluteUri);
        wait.Until(b => b.FindElement(By.Id("status")).Text.Contains("served over HTTP", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task TheStaticSiteClassifiesInTheBrowserAsOnnxRuntimeDoesInCSharp()
    {
        RequireBrowser();
        string onnx = ServedModels.Export(dir["model.onnx"], flipTta: true);
        string site = dir["site"];
        StaticSite.Write(onnx, site);
        foreach (string file in new[] { "index.html", "ui.js", "classifier.js", "model.onnx", "model.json", "ort/ort.wasm.min.js", "ort/ort-wasm-simd-threaded.wasm", "ort/ort-wasm-simd-threaded.mjs" })
            Assert.True(File.Exists(Path.Combine(site, file)), file);
        Assert.Throws<ArgumentException>(() => StaticSite.Write(onnx, site)); // not into a folder that has files

        // Photos of several shapes (the resize, the crop's rounding), PNG and a JPEG small enough to be decoded whole.
        var photos = new (string Name, byte[] Bytes)[]
        {
            ("wide.png", ServedModels.Photo(0, 300, 200)), ("tall.png", ServedModels.Photo(1, 90, 170)), ("odd.png", ServedModels.Photo(2, 61, 33)),
            ("square.png", ServedModels.Photo(3, 24, 24)), ("small.jpg", ServedModels.Photo(5, 50, 44, jpeg: true)),
        };
        using var reference = ServedModel.Open(onnx, ImageLimits.Default, threads: 1);
        await using var server = await StaticServer(site);
        using var browser = Browser();
        browser.Navigate().GoToUrl(server.Urls.Single() + "/index.html");
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(120));
        try
        {
            wait.Until(b => b.FindElement(By.TagName("body")).GetDomAttribute("data-ready") == "true");
        }
        catch (WebDriverTimeoutException)
        {
            // Say why: the page's status line and the browser's console.
            string console = string.Join("\n", browser.Manage().Logs.GetLog(LogType.Browser).Select(e => e.Message));
            throw new Xunit.Sdk.XunitException($"the site did not load its model: {browser.FindElement(By.Id("status")).Text}\n{console}");
        }
        Assert.Equal(reference.Card.Name, browser.FindElement(By.Id("title")).Text);
        Assert.Equal(reference.Card.Layers.Count, browser.FindElements(By.CssSelector("#layers tbody tr")).Count);

        double worst = 0;
        foreach (var (name, bytes) in photos)
        {
            string path = dir[name];
            File.WriteAllBytes(path, bytes);
            float[] expected = reference.Probabilities(reference.Prepare(bytes), 1);
            browser.FindElement(By.Id("photo")).SendKeys(path);
            wait.Until(b => b.FindElement(By.Id("status")).Text.StartsWith(name + ":", StringComparison.Ordinal));
            var shown = browser.FindElements(By.CssSelector("#classes li"));
            Assert.Equal(4, shown.Count);
            foreach (var li in shown)
            {
                int index = int.Parse(li.GetDomAttribute("data-index")!, System.Globalization.CultureInfo.InvariantCulture);
                double p = double.Parse(li.GetDomAttribute("data-probability")!, System.Globalization.CultureInfo.InvariantCulture);
                worst = Math.Max(worst, Math.Abs(p - expected[index]));
                Assert.True(Math.Abs(p - expected[index]) <= 1e-3, $"{name}, class {index}: the browser says {p}, ONNX Runtime in C# {expected[index]}");
            }
            Assert.Equal(Array.IndexOf(expected, expected.Max()), int.Parse(shown[0].GetDomAttribute("data-index")!, System.Globalization.CultureInfo.InvariantCulture));
        }
        Console.WriteLine($"static site: worst |p(browser) - p(C#)| = {worst:E2}");
        browser.GetScreenshot().SaveAsFile(Path.Combine(Screenshots, "static-site.png"));
        await server.StopAsync();
    }
}

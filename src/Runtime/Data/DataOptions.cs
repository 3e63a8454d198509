namespace ArchGen.Data;

/// <summary>How to find (and whether to fetch) a dataset.</summary>
/// <param name="DataDir">The <c>--data DIR</c> folder; when null, <c>$ARCHGEN_DATA</c> then <c>./data</c> are searched.</param>
/// <param name="Download">Whether a missing CIFAR-10 may be downloaded (<c>--download</c>).</param>
/// <param name="Seed">Seed of the synthetic dataset.</param>
/// <param name="Progress">Receives download/verify/extract progress.</param>
/// <param name="SyntheticTrain">Training images of the synthetic dataset.</param>
/// <param name="SyntheticTest">Test images of the synthetic dataset.</param>
/// <param name="HttpHandler">Handler for the download (tests inject a fake one); null uses the default.</param>
/// <param name="DownloadUri">Overrides the CIFAR-10 archive address.</param>
/// <param name="ExpectedMd5">Overrides the archive's expected MD5 (hex).</param>
/// <param name="CancellationToken">Cancels a download.</param>
/// <param name="StallTimeout">A download receiving nothing for this long fails; null means <see cref="Cifar10.DefaultStallTimeout"/> (60 s).</param>
/// <param name="Images">How the folder dataset reads its image files (bad files, workers, cache); null means the defaults.</param>
/// <param name="ImageSize">The model's input side, when known: the one size field. A dataset that can serve that size
/// natively does (Fashion-MNIST at 28 serves its images unpadded); an image folder takes its statistics at it (at
/// <see cref="ImageFolder.DefaultSize"/> when unknown); the others ignore it.</param>
public sealed record DataOptions(
    string? DataDir = null,
    bool Download = false,
    int Seed = 0,
    IProgress<DownloadProgress>? Progress = null,
    int SyntheticTrain = 5000,
    int SyntheticTest = 1000,
    HttpMessageHandler? HttpHandler = null,
    Uri? DownloadUri = null,
    string? ExpectedMd5 = null,
    CancellationToken CancellationToken = default,
    TimeSpan? StallTimeout = null,
    Images.ImageFolderOptions? Images = null,
    int? ImageSize = null);

/// <summary>Which step of fetching a dataset is running.</summary>
public enum DownloadStage
{
    /// <summary>Receiving the archive; <see cref="DownloadProgress.Bytes"/> counts received bytes.</summary>
    Downloading,
    /// <summary>The archive's checksum matched.</summary>
    Verified,
    /// <summary>Unpacking; <see cref="DownloadProgress.Bytes"/> counts extracted bytes.</summary>
    Extracting,
    /// <summary>The dataset is in place.</summary>
    Done,
}

/// <summary>Progress of a dataset download.</summary>
/// <param name="Stage">The running step.</param>
/// <param name="Bytes">Bytes handled so far in this step.</param>
/// <param name="TotalBytes">Total bytes of this step when known.</param>
/// <param name="Item">What is being handled (address or file name).</param>
public sealed record DownloadProgress(DownloadStage Stage, long Bytes, long? TotalBytes, string Item)
{
    /// <summary>Fraction done in [0, 1] when the total is known.</summary>
    public double? Fraction => TotalBytes is > 0 ? Math.Min(1.0, (double)Bytes / TotalBytes.Value) : null;
}

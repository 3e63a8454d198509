using ArchGen.Data;

namespace ArchGen.App.Reporting;

/// <summary>Shows a dataset download's progress on stderr, one line updated in place on a terminal, a line per stage otherwise.</summary>
public static class DownloadProgressView
{
    public static IProgress<DownloadProgress> Create() => new View();

    sealed class View : IProgress<DownloadProgress>
    {
        DownloadStage? stage;
        int lastPercent = -1;

        public void Report(DownloadProgress p)
        {
            bool terminal = !Console.IsErrorRedirected;
            int percent = p.Fraction is { } f ? (int)(f * 100) : -1;
            if (p.Stage != stage)
            {
                if (stage is not null && terminal) Console.Error.WriteLine();
                stage = p.Stage;
                lastPercent = -1;
                if (!terminal) Console.Error.WriteLine($"{p.Stage}: {p.Item}");
            }
            if (!terminal || percent == lastPercent) return;
            lastPercent = percent;
            string amount = p.TotalBytes is { } total ? $"{p.Bytes / 1048576.0:F1}/{total / 1048576.0:F1} MiB ({percent}%)" : $"{p.Bytes / 1048576.0:F1} MiB";
            Console.Error.Write($"\r{p.Stage}: {p.Item} {amount}   ");
        }
    }
}

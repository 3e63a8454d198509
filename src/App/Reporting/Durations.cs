using System.Globalization;

namespace ArchGen.App.Reporting;

/// <summary>Wall times as people read them: "11 min 40 s", "1 h 2 min 5 s", "42.3 s".</summary>
public static class Durations
{
    public static string Format(TimeSpan time)
    {
        if (time.TotalSeconds < 60) return time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
        long seconds = (long)Math.Round(time.TotalSeconds);
        long h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
        return h > 0 ? $"{h} h {m} min {s} s" : $"{m} min {s} s";
    }
}

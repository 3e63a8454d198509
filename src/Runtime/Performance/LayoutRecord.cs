using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArchGen.Performance;

/// <summary>The paths a run's convolutions took, and why, as its <c>config.json</c> records them (<c>memoryLayout</c>).</summary>
public static class LayoutRecord
{
    /// <summary>The property of <c>config.json</c> that holds the record.</summary>
    public const string Property = "memoryLayout";

    /// <summary><paramref name="configJson"/> (a JSON object) with the <see cref="Property"/> record of <paramref name="models"/> added.</summary>
    public static string AddTo(string configJson, params (string Role, IReadOnlyList<LayoutEntry> Entries)[] models)
    {
        var root = JsonNode.Parse(configJson)!.AsObject();
        root[Property] = ToJson(models);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// <c>{ "policy", "tolerance", "models": [ { "role", "training": { "channels-last", "GEMM", "plain" }, "inference": { … },
    /// "layers": [ { "layer", "input", "mode", "threads", "path", "error", "why" } ] } ] }</c>: per model (the one trained,
    /// the moving average evaluated), how many convolutions took each path in each mode, and every verdict.
    /// </summary>
    public static JsonObject ToJson(params (string Role, IReadOnlyList<LayoutEntry> Entries)[] models)
    {
        var array = new JsonArray();
        foreach (var (role, entries) in models)
        {
            var layers = new JsonArray();
            foreach (var e in entries)
            {
                layers.Add(new JsonObject
                {
                    ["layer"] = e.Layer,
                    ["input"] = e.Input,
                    ["mode"] = e.Mode,
                    ["threads"] = e.Threads,
                    ["path"] = VerifiedLayout.Name(e.Verdict.Path),
                    ["error"] = double.IsFinite(e.Verdict.Error) ? e.Verdict.Error : null,
                    ["why"] = e.Verdict.Why,
                });
            }
            array.Add(new JsonObject
            {
                ["role"] = role,
                ["training"] = Counts(entries.Where(e => e.Training)),
                ["inference"] = Counts(entries.Where(e => !e.Training)),
                ["layers"] = layers,
            });
        }
        return new JsonObject
        {
            ["policy"] = VerifiedLayout.Policy == LayoutPolicy.Plain ? "plain" : "verified",
            ["tolerance"] = VerifiedLayout.Tolerance,
            ["models"] = array,
        };
    }

    static JsonObject Counts(IEnumerable<LayoutEntry> entries)
    {
        var counts = new JsonObject();
        foreach (var path in Enum.GetValues<ConvPath>())
            counts[VerifiedLayout.Name(path)] = entries.Count(e => e.Verdict.Path == path);
        return counts;
    }
}

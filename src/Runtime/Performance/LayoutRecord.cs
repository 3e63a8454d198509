using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArchGen.Performance;

/// <summary>The memory layouts a run's model ran in, and why, as its <c>config.json</c> records them (<c>memoryLayout</c>).</summary>
public static class LayoutRecord
{
    /// <summary>The property of <c>config.json</c> that holds the record.</summary>
    public const string Property = "memoryLayout";

    /// <summary><paramref name="configJson"/> (a JSON object) with the <see cref="Property"/> record of <paramref name="entries"/> added.</summary>
    public static string AddTo(string configJson, IReadOnlyList<LayoutEntry> entries)
    {
        var root = JsonNode.Parse(configJson)!.AsObject();
        root[Property] = ToJson(entries);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// <c>{ "policy": "verified", "checks": [ { "input", "mode", "threads", "channelsLast", "plain", "layers": [ { "layer", "layout", "why" } ] } ] }</c>:
    /// one check per input shape and mode, each with the count of layers in either layout and every layer's verdict.
    /// </summary>
    public static JsonObject ToJson(IReadOnlyList<LayoutEntry> entries)
    {
        var checks = new JsonArray();
        foreach (var group in entries.GroupBy(e => (e.Input, e.Mode, e.Threads)))
        {
            var layers = new JsonArray();
            foreach (var e in group)
                layers.Add(new JsonObject { ["layer"] = e.Layer, ["layout"] = e.Verdict.ChannelsLast ? "channels-last" : "plain", ["why"] = e.Verdict.Why });
            checks.Add(new JsonObject
            {
                ["input"] = group.Key.Input,
                ["mode"] = group.Key.Mode,
                ["threads"] = group.Key.Threads,
                ["channelsLast"] = group.Count(e => e.Verdict.ChannelsLast),
                ["plain"] = group.Count(e => !e.Verdict.ChannelsLast),
                ["layers"] = layers,
            });
        }
        return new JsonObject
        {
            ["policy"] = VerifiedLayout.Policy switch { LayoutPolicy.Plain => "plain", LayoutPolicy.ChannelsLast => "channels-last", _ => "verified" },
            ["checks"] = checks,
        };
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArchGen.Performance;

/// <summary>The memory layouts a run's model ran in, and why, as its <c>config.json</c> records them (<c>memoryLayout</c>).</summary>
public static class LayoutRecord
{
    /// <summary>The property of <c>config.json</c> that holds the record.</summary>
    public const string Property = "memoryLayout";

    /// <summary><paramref name="configJson"/> (a JSON object) with the <see cref="Property"/> record of <paramref name="checks"/> added.</summary>
    public static string AddTo(string configJson, IReadOnlyList<LayoutCheck> checks)
    {
        var root = JsonNode.Parse(configJson)!.AsObject();
        root[Property] = ToJson(checks);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// <c>{ "policy": "verified", "checks": [ { "input", "mode", "threads", "channelsLast", "plain", "layers": [ { "layer", "input", "layout", "why" } ] } ] }</c>:
    /// one check per model input and mode, with the count of layers in either layout and every layer's verdict.
    /// </summary>
    public static JsonObject ToJson(IReadOnlyList<LayoutCheck> checks)
    {
        var array = new JsonArray();
        foreach (var check in checks)
        {
            var layers = new JsonArray();
            foreach (var e in check.Layers)
                layers.Add(new JsonObject { ["layer"] = e.Layer, ["input"] = e.Input, ["layout"] = e.Verdict.ChannelsLast ? "channels-last" : "plain", ["why"] = e.Verdict.Why });
            array.Add(new JsonObject
            {
                ["input"] = check.Input,
                ["mode"] = check.Mode,
                ["threads"] = check.Threads,
                ["channelsLast"] = check.ChannelsLast,
                ["plain"] = check.Layers.Count - check.ChannelsLast,
                ["layers"] = layers,
            });
        }
        return new JsonObject
        {
            ["policy"] = VerifiedLayout.Policy switch { LayoutPolicy.Plain => "plain", LayoutPolicy.ChannelsLast => "channels-last", _ => "verified" },
            ["checks"] = array,
        };
    }
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Checkpoints;

/// <summary>
/// Checks the optimizer section of a checkpoint (TorchSharp's <c>save_state_dict</c> format) before TorchSharp reads
/// it, for the optimizers the trainer creates (Adam and SGD): the optimizer's type, the number of parameter groups
/// and states, and that every stored tensor has the dtype and shape of its parameter and fits in the bytes that
/// remain. TorchSharp itself allocates whatever shape a file claims for optional state (SGD's momentum buffer), so
/// a forged file could otherwise ask for terabytes or reach a native error.
/// </summary>
internal static class StoredOptimizerState
{
    /// <summary>Per optimizer type: bytes of options after the base learning rates, and the layout of each parameter's state.</summary>
    static readonly Dictionary<string, (int OptionBytes, string State)> Layouts = new(StringComparer.Ordinal)
    {
        // beta1, beta2, eps, weight_decay (doubles), amsgrad, maximize (bools); state: step (int64), exp_avg, exp_avg_sq, optional max_exp_avg_sq.
        ["Adam"] = (4 * 8 + 2, "8TTO"),
        // momentum, dampening, weight_decay (doubles), nesterov, maximize (bools); state: optional momentum_buffer.
        ["SGD"] = (3 * 8 + 2, "O"),
    };

    /// <summary>Walks the section from the reader's position (which it leaves at the section's end); throws a <see cref="Data.DataException"/> when it does not fit.</summary>
    /// <returns>False when the optimizer's type has no known layout (then only TorchSharp's own checks apply).</returns>
    public static bool Check(BinaryReader reader, OptimizerHelper optimizer, string path)
    {
        var stream = reader.BaseStream;
        long at = stream.Position;
        string stored = StoredStateDict.ReadKey(reader, path);
        string expected = optimizer.GetType().Name;
        if (!string.Equals(stored, expected, StringComparison.Ordinal))
            throw new Data.DataException($"holds {Short(stored)} optimizer state; this run uses {expected}", path, at);
        if (!Layouts.TryGetValue(expected, out var layout)) return false;

        var groups = optimizer.ParamGroups.ToList();
        var parameters = optimizer.parameters().ToList(); // the states' order: group by group, parameter by parameter
        long groupCount = StoredStateDict.ReadCount(reader, path, "parameter group count");
        long stateCount = StoredStateDict.ReadCount(reader, path, "state count");
        if (groupCount != groups.Count || stateCount != parameters.Count)
            throw StoredStateDict.Damaged(path, at, $"its optimizer state has {groupCount} parameter groups and {stateCount} states; the model has {groups.Count} and {parameters.Count}");
        Skip(stream, groupCount * (16 + layout.OptionBytes), path, "the optimizer options");
        for (int i = 0; i < parameters.Count; i++)
        {
            foreach (char part in layout.State)
            {
                switch (part)
                {
                    case '8':
                        Skip(stream, 8, path, "a step count");
                        break;
                    case 'T':
                        Tensor(reader, parameters[i], i, path);
                        break;
                    case 'O':
                        int present = stream.ReadByte();
                        if (present is not (0 or 1)) throw StoredStateDict.Damaged(path, stream.Position - 1, "an optional optimizer tensor has a malformed flag");
                        if (present == 1) Tensor(reader, parameters[i], i, path);
                        break;
                }
            }
        }
        if (stream.Position != stream.Length)
            throw StoredStateDict.Damaged(path, stream.Position, $"{stream.Length - stream.Position} unexpected bytes follow the optimizer state");
        return true;
    }

    static void Tensor(BinaryReader reader, Tensor parameter, int index, string path)
    {
        var entry = StoredStateDict.ReadTensor(reader, path, $"optimizer state {index}");
        if (entry.DType != parameter.dtype || !entry.Shape.SequenceEqual(parameter.shape))
            throw StoredStateDict.Damaged(path, entry.DataOffset, $"optimizer state {index} is [{string.Join(",", entry.Shape)}] {entry.DType}; its parameter is [{string.Join(",", parameter.shape)}] {parameter.dtype}");
    }

    static void Skip(Stream stream, long bytes, string path, string what)
    {
        if (bytes > stream.Length - stream.Position) throw StoredStateDict.Damaged(path, stream.Position, $"it ends inside {what}");
        stream.Seek(bytes, SeekOrigin.Current);
    }

    static string Short(string name) => name.Length <= 40 ? $"'{name}'" : $"'{name[..40]}…'";
}

using System.Buffers.Binary;
using System.Text;
using ArchGen.Data;

namespace ArchGen.Interop;

/// <summary>A tensor as a weights file describes it, before any of its data is read.</summary>
/// <param name="Key">Its state_dict key.</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">Its dimensions.</param>
public sealed record StoredTensor(string Key, TorchSharp.torch.ScalarType DType, long[] Shape);

/// <summary>
/// Reads the pickle inside a <c>torch.save</c> archive (<c>data.pkl</c>) without running anything: a small
/// interpreter for the opcodes a state_dict uses, which accepts only the callables a state_dict needs
/// (<c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c> and the typed storages) and refuses
/// every other one by name, as PyTorch's own <c>weights_only</c> loader does. It returns what each tensor claims
/// (storage, offset, shape, stride), so sizes can be checked against the archive and the model before a byte of
/// tensor data is read.
/// </summary>
internal static class StateDictPickle
{
    /// <summary>A storage a tensor points into: its archive key, element type and length in elements.</summary>
    internal sealed record Storage(string Key, TorchSharp.torch.ScalarType DType, int ElementSize, long Elements);

    /// <summary>One state_dict entry: where its data is and what it claims to be.</summary>
    internal sealed record Entry(string Key, Storage Storage, long Offset, long[] Shape, long[] Stride);

    const int MaxStack = 1 << 20;
    const int MaxRank = 32;

    static readonly Dictionary<string, (TorchSharp.torch.ScalarType Type, int Size)> Storages = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = (TorchSharp.torch.ScalarType.Float32, 4),
        ["DoubleStorage"] = (TorchSharp.torch.ScalarType.Float64, 8),
        ["HalfStorage"] = (TorchSharp.torch.ScalarType.Float16, 2),
        ["BFloat16Storage"] = (TorchSharp.torch.ScalarType.BFloat16, 2),
        ["LongStorage"] = (TorchSharp.torch.ScalarType.Int64, 8),
        ["IntStorage"] = (TorchSharp.torch.ScalarType.Int32, 4),
        ["ShortStorage"] = (TorchSharp.torch.ScalarType.Int16, 2),
        ["CharStorage"] = (TorchSharp.torch.ScalarType.Int8, 1),
        ["ByteStorage"] = (TorchSharp.torch.ScalarType.Byte, 1),
        ["BoolStorage"] = (TorchSharp.torch.ScalarType.Bool, 1),
    };

    sealed record Global(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    sealed class Mark;

    sealed class OrderedDictValue
    {
        public List<(object? Key, object? Value)> Items { get; } = [];
    }

    sealed record TensorValue(Storage Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>Interprets <paramref name="pickle"/> and returns the state_dict's entries in file order.</summary>
    public static IReadOnlyList<Entry> Read(byte[] pickle, string path)
    {
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        int pos = 0;

        DataException Bad(string what) => new($"its pickle (data.pkl) is not a state_dict: {what}", path, pos);
        byte Byte() => pos < pickle.Length ? pickle[pos++] : throw Bad("it ends early");
        ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || n > pickle.Length - pos) throw Bad($"a field claims {n} bytes, more than remain");
            var span = pickle.AsSpan(pos, (int)n);
            pos += (int)n;
            return span;
        }
        string Line()
        {
            int end = Array.IndexOf(pickle, (byte)'\n', pos);
            if (end < 0 || end - pos > 1024) throw Bad("a text field has no end");
            string s = Encoding.ASCII.GetString(pickle, pos, end - pos);
            pos = end + 1;
            return s;
        }
        void Push(object? value)
        {
            if (stack.Count >= MaxStack) throw Bad("its stack grows beyond any state_dict's");
            stack.Add(value);
        }
        object? Pop()
        {
            if (stack.Count == 0 || stack[^1] is Mark) throw Bad("it pops from an empty stack");
            var v = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return v;
        }
        List<object?> PopToMark()
        {
            int mark = stack.FindLastIndex(v => v is Mark);
            if (mark < 0) throw Bad("a MARK is missing");
            var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
            stack.RemoveRange(mark, stack.Count - mark);
            return items;
        }
        void Memo(long index)
        {
            if (stack.Count == 0) throw Bad("it memoizes an empty stack");
            if (memo.Count >= MaxStack) throw Bad("its memo grows beyond any state_dict's");
            memo[index] = stack[^1];
        }
        object? Recall(long index) => memo.TryGetValue(index, out var v) ? v : throw Bad($"it refers to memo entry {index}, which was never stored");

        while (true)
        {
            int at = pos;
            byte op = Byte();
            switch (op)
            {
                case 0x80: Byte(); break;                                            // PROTO
                case 0x95: Take(8); break;                                           // FRAME
                case (byte)'.':                                                      // STOP
                    if (stack.Count != 1) throw Bad("it stops with a malformed stack");
                    return ToEntries(stack[0], path);
                case (byte)'c': Push(Allowed(new Global(Line(), Line()), path)); break; // GLOBAL
                case 0x93:                                                           // STACK_GLOBAL
                {
                    var name = Pop() as string ?? throw Bad("STACK_GLOBAL without a name");
                    var module = Pop() as string ?? throw Bad("STACK_GLOBAL without a module");
                    Push(Allowed(new Global(module, name), path));
                    break;
                }
                case (byte)'q': Memo(Byte()); break;                                 // BINPUT
                case (byte)'r': Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                case 0x94: Memo(memo.Count); break;                                  // MEMOIZE
                case (byte)'p': Memo(ParseLong(Line(), Bad)); break;                 // PUT
                case (byte)'h': Push(Recall(Byte())); break;                         // BINGET
                case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'g': Push(Recall(ParseLong(Line(), Bad))); break;         // GET
                case (byte)'(': Push(new Mark()); break;                             // MARK
                case (byte)')': Push(Array.Empty<object?>()); break;                 // EMPTY_TUPLE
                case (byte)'t': Push(PopToMark().ToArray()); break;                  // TUPLE
                case 0x85: Push(new[] { Pop() }); break;                             // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)']': Push(new List<object?>()); break;                    // EMPTY_LIST
                case (byte)'l': Push(PopToMark()); break;                            // LIST
                case (byte)'a': { var v = Pop(); (Peek() as List<object?> ?? throw Bad("APPEND to a non-list")).Add(v); break; }
                case (byte)'e': { var items = PopToMark(); (Peek() as List<object?> ?? throw Bad("APPENDS to a non-list")).AddRange(items); break; }
                case (byte)'}': Push(new OrderedDictValue()); break;                 // EMPTY_DICT
                case (byte)'d': { var d = new OrderedDictValue(); AddPairs(d, PopToMark()); Push(d); break; } // DICT
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Peek()).Items.Add((k, v)); break; } // SETITEM
                case (byte)'u': { var items = PopToMark(); AddPairs(AsDict(Peek()), items); break; } // SETITEMS
                case (byte)'b':                                                      // BUILD
                {
                    var state = Pop();
                    if (Peek() is not OrderedDictValue) throw Bad("BUILD on something other than a dict");
                    _ = state; // an OrderedDict's state (e.g. state_dict's _metadata) holds no tensors
                    break;
                }
                case (byte)'R':                                                      // REDUCE
                case 0x81:                                                           // NEWOBJ
                {
                    var args = Pop() as object?[] ?? throw Bad("a call without an argument tuple");
                    var callable = Pop() as Global ?? throw Bad("a call of something that is not a known function");
                    Push(Call(callable, args, path, Bad));
                    break;
                }
                case (byte)'Q':                                                      // BINPERSID
                    Push(PersistentStorage(Pop(), Bad));
                    break;
                case (byte)'K': Push((long)Byte()); break;                           // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;  // BININT
                case 0x8a:                                                           // LONG1
                {
                    int n = Byte();
                    if (n > 8) throw Bad($"an integer of {n} bytes");
                    var raw = Take(n);
                    long v = 0;
                    for (int i = n - 1; i >= 0; i--) v = (v << 8) | raw[i];
                    if (n is > 0 and < 8 && (raw[n - 1] & 0x80) != 0) v -= 1L << (8 * n);
                    Push(v);
                    break;
                }
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case (byte)'N': Push(null); break;                                   // NONE
                case 0x88: Push(true); break;                                        // NEWTRUE
                case 0x89: Push(false); break;                                       // NEWFALSE
                case (byte)'X': Push(Utf8(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))), Bad)); break; // BINUNICODE
                case 0x8c: Push(Utf8(Take(Byte()), Bad)); break;                     // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(Take(BinaryPrimitives.ReadInt64LittleEndian(Take(8))), Bad)); break; // BINUNICODE8
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(Byte()))); break; // SHORT_BINSTRING
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break; // BINSTRING
                case (byte)'C': Push(Take(Byte()).ToArray()); break;                 // SHORT_BINBYTES
                case (byte)'B': Push(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))).ToArray()); break; // BINBYTES
                case (byte)'0': Pop(); break;                                        // POP
                case (byte)'1': PopToMark(); break;                                  // POP_MARK
                default:
                    pos = at;
                    throw Bad($"pickle opcode 0x{op:X2} is not one a state_dict uses");
            }
        }

        object? Peek() => stack.Count > 0 ? stack[^1] : throw Bad("it reads an empty stack");
        OrderedDictValue AsDict(object? v) => v as OrderedDictValue ?? throw Bad("SETITEM on something other than a dict");
        void AddPairs(OrderedDictValue d, List<object?> items)
        {
            if (items.Count % 2 != 0) throw Bad("a dict with an odd number of items");
            for (int i = 0; i < items.Count; i += 2) d.Items.Add((items[i], items[i + 1]));
        }
    }

    /// <summary>Only what a state_dict needs may be named; anything else is refused before it could be used.</summary>
    static Global Allowed(Global g, string path)
    {
        bool ok = (g.Module, g.Name) switch
        {
            ("collections", "OrderedDict") => true,
            ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_tensor") => true,
            ("torch", var storage) when Storages.ContainsKey(storage) => true,
            ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state") =>
                throw new DataException("holds a whole model's parameters (nn.Parameter objects), not a state_dict; save it with torch.save(model.state_dict(), path)", path),
            _ => false,
        };
        if (!ok)
            throw new DataException(
                $"refused: its pickle names '{Printable(g.Module)}.{Printable(g.Name)}', which a state_dict never contains (a pickle can run code this way); " +
                "nothing from the file was run. Only tensors in an OrderedDict are loaded; save weights with torch.save(model.state_dict(), path) or as .safetensors", path);
        return g;
    }

    static object Call(Global callable, object?[] args, string path, Func<string, DataException> bad)
    {
        switch (callable.Module, callable.Name)
        {
            case ("collections", "OrderedDict"):
            {
                // OrderedDict(), or OrderedDict(pairs) with a list or tuple of (key, value) pairs (TorchSharp.PyBridge writes OrderedDict(())).
                var dict = new OrderedDictValue();
                if (args.Length == 0) return dict;
                IEnumerable<object?> pairs = args.Length == 1 && args[0] is List<object?> or object?[] ? (IEnumerable<object?>)args[0]! : throw bad("OrderedDict is called with arguments other than (key, value) pairs");
                foreach (var pair in pairs)
                {
                    if (pair is not object?[] { Length: 2 } kv) throw bad("OrderedDict is given an item that is not a (key, value) pair");
                    dict.Items.Add((kv[0], kv[1]));
                }
                return dict;
            }
            case ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_tensor"):
            {
                if (args.Length < 4) throw bad($"{callable} gets {args.Length} arguments");
                var storage = args[0] as Storage ?? throw bad($"{callable} gets no storage");
                long offset = args[1] as long? ?? throw bad("a tensor's storage offset is not an integer");
                return new TensorValue(storage, offset, Integers(args[2], "shape", bad), Integers(args[3], "stride", bad));
            }
            default:
                throw bad($"{callable} is called, which a state_dict never does");
        }
    }

    static long[] Integers(object? value, string what, Func<string, DataException> bad)
    {
        if (value is not object?[] items) throw bad($"a tensor's {what} is not a tuple");
        if (items.Length > MaxRank) throw bad($"a tensor's {what} has {items.Length} dimensions");
        return items.Select(i => i as long? ?? throw bad($"a tensor's {what} holds a non-integer")).ToArray();
    }

    // ('storage', torch.FloatStorage, key, location, numel)
    static Storage PersistentStorage(object? pid, Func<string, DataException> bad)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] as string != "storage")
            throw bad("a persistent id that is not a storage");
        var type = t[1] as Global ?? throw bad("a storage without a type");
        if (!Storages.TryGetValue(type.Name, out var dtype)) throw bad($"storage type {type} is not supported");
        var key = t[2] as string ?? throw bad("a storage without a key");
        long elements = t[4] as long? ?? throw bad("a storage without a length");
        if (elements < 0) throw bad($"storage '{key}' claims {elements} elements");
        return new Storage(key, dtype.Type, dtype.Size, elements);
    }

    static IReadOnlyList<Entry> ToEntries(object? root, string path)
    {
        if (root is not OrderedDictValue dict)
            throw new DataException("does not hold a state_dict (a dict of tensors); save one with torch.save(model.state_dict(), path)", path);
        var entries = new List<Entry>(dict.Items.Count);
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name) throw new DataException("its state_dict has a key that is not a string", path);
            if (value is not TensorValue t)
                throw new DataException($"entry '{Printable(name)}' is not a tensor; expected a state_dict saved with torch.save(model.state_dict(), ...)", path);
            entries.Add(new Entry(name, t.Storage, t.Offset, t.Shape, t.Stride));
        }
        return entries;
    }

    static long ParseLong(string text, Func<string, DataException> bad) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v : throw bad("a malformed memo index");

    static string Utf8(ReadOnlySpan<byte> bytes, Func<string, DataException> bad)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw bad("a string that is not UTF-8");
        }
    }

    /// <summary>Names from a file, shortened and stripped of control characters, for a one-line message.</summary>
    internal static string Printable(string s)
    {
        var clean = Data.Printable.Text(s);
        return clean.Length <= 60 ? clean : clean[..60] + "…";
    }
}

using ArchGen.Data.Images;

namespace ArchGen.Data;

/// <summary>
/// Your own photos, one folder per class: <c>DIR/train/&lt;class&gt;/*</c> and <c>DIR/test/&lt;class&gt;/*</c> (JPEG, PNG,
/// WebP, BMP or GIF, any size; subfolders of a class folder count for that class). Class names are the train
/// subfolder names in ordinal order; hidden files and folders (starting with '.') are ignored, any other file must be
/// a readable image (or is skipped with <see cref="ImageFolderOptions.SkipBadImages"/>). Images are decoded on the fly for the model's input size with torchvision's
/// ImageNet recipe (<see cref="ImageFileLoader"/>); statistics are those of the train split.
/// </summary>
public static class ImageFolder
{
    /// <summary>The dataset's name (<c>--dataset folder</c>).</summary>
    public const string Name = "folder";

    /// <summary>The input side statistics are taken at when the model's is not known: the paper models' 224.</summary>
    public const int DefaultSize = 224;

    /// <summary>
    /// Opens <paramref name="root"/> (which must hold <c>train</c> and <c>test</c> folders) for a model whose input side is
    /// <paramref name="size"/> (its statistics and cache are made at that size); nothing is decoded yet.
    /// </summary>
    public static ImageFolderDataset Open(string root, int size, ImageFolderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        options ??= new ImageFolderOptions();
        options.Validate();
        if (!Directory.Exists(root)) throw new DataException("the data folder does not exist", root);
        var train = Path.Combine(root, "train");
        var test = Path.Combine(root, "test");
        foreach (var split in new[] { train, test })
        {
            if (!Directory.Exists(split))
                throw new DataException("missing folder; an image-folder dataset has train/<class>/ and test/<class>/ subfolders of JPEG, PNG, WebP, BMP or GIF images", split);
        }
        var classes = Directory.GetDirectories(train).Select(d => Path.GetFileName(d)!).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        foreach (var split in new[] { train, test })
            foreach (var folder in Directory.GetDirectories(split))
                if (ImageFile.NotUtf8(folder)) throw ImageFile.NotUtf8Error(folder);
        if (classes.Length == 0) throw new DataException("no class folders; expected train/<class>/ subfolders", train);
        var budget = new ImageCacheBudget(options.CacheBytes);
        return new ImageFolderDataset(List("train", train, classes, options, budget), List("test", test, classes, options, budget), size);
    }

    /// <summary>Lists the images of one split, in class then ordinal file-name order.</summary>
    static ImageFileSplit List(string name, string splitFolder, IReadOnlyList<string> classNames, ImageFolderOptions options, ImageCacheBudget budget)
    {
        foreach (var dir in Directory.GetDirectories(splitFolder))
        {
            var folder = Path.GetFileName(dir);
            if (!folder.StartsWith('.') && !classNames.Contains(folder))
                throw new DataException($"class folder '{folder}' has no counterpart in the training split; expected one of: {string.Join(", ", classNames)}", dir);
        }
        var files = new List<string>();
        var labels = new List<int>();
        for (int c = 0; c < classNames.Count; c++)
        {
            var dir = Path.Combine(splitFolder, classNames[c]);
            if (!Directory.Exists(dir)) continue;
            int before = files.Count;
            foreach (var f in FilesUnder(dir))
            {
                files.Add(f);
                labels.Add(c);
            }
            if (files.Count == before && name == "train" && !options.AllowEmptyClasses)
                throw new DataException("this class folder has no images, so no image would teach its class; add images, remove the folder, or pass --allow-empty-classes", dir);
        }
        if (files.Count == 0) throw new DataException("no images found", splitFolder);
        return new ImageFileSplit(name, files, labels, classNames, options, budget);
    }

    /// <summary>
    /// The files <paramref name="paths"/> name, in order: a file as given, a folder as every non-hidden file under it
    /// (subfolders included, ordinal order). A path that names nothing is a <see cref="DataException"/>.
    /// </summary>
    public static IReadOnlyList<string> Files(IEnumerable<string> paths)
    {
        var result = new List<string>();
        foreach (var path in paths)
        {
            if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("PATH is empty; give image files or folders of them.");
            if (Directory.Exists(path))
            {
                int before = result.Count;
                result.AddRange(FilesUnder(path));
                if (result.Count == before) throw new DataException("no files in this folder", path);
            }
            else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null) result.Add(path);
            else if (ImageFile.NotUtf8(path)) throw ImageFile.NotUtf8Error(path);
            else throw new DataException("no such file or folder", path);
        }
        return result;
    }

    /// <summary>
    /// Every non-hidden file under <paramref name="dir"/>, subfolders included at any depth (as torchvision's
    /// ImageFolder), in ordinal path order. Links to folders are not followed, so there are no cycles, and the
    /// depth is bounded by the longest path the file system allows.
    /// </summary>
    static IEnumerable<string> FilesUnder(string dir)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(entry).StartsWith('.')) continue;
            var info = new DirectoryInfo(entry);
            if (!info.Exists)
            {
                yield return entry; // a file, a link to one, or something that is not a regular file (refused when read)
                continue;
            }
            if (info.LinkTarget is not null) continue;
            foreach (var f in FilesUnder(entry)) yield return f;
        }
    }
}

/// <summary>An opened image folder: its two splits, streamed, and the train split's statistics.</summary>
public sealed class ImageFolderDataset : IDataset
{
    internal ImageFolderDataset(ImageFileSplit train, ImageFileSplit test, int size)
    {
        Train = train;
        Test = test;
        Size = size;
    }

    /// <summary>The model's input side the folder was opened for.</summary>
    public int Size { get; }

    /// <inheritdoc />
    public string Name => ImageFolder.Name;

    /// <summary>The training images.</summary>
    public ImageFileSplit Train { get; }

    /// <summary>The test images.</summary>
    public ImageFileSplit Test { get; }

    IImageSplit IDataset.Train => Train;

    IImageSplit IDataset.Test => Test;

    /// <summary>
    /// Per-channel mean and standard deviation of the train split's images resized for evaluation (shorter side
    /// <see cref="ImageNetTransforms.ResizeSide"/> of <see cref="Size"/>). The first use decodes the
    /// train split once (which also checks every file and fills the cache).
    /// </summary>
    public Normalization Normalization => Train.Scan(Size).Statistics;
}

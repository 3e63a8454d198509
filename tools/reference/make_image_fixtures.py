#!/usr/bin/env python3
"""Generate the image fixtures of the decoder and transform tests (PIL, torchvision).

Run from the repository root with Debian's interpreter:
    /usr/bin/python3 tools/reference/make_image_fixtures.py [SKIMAGE_DATA_DIR]

Writes tests/ArchGen.Runtime.Tests/Data/Images/Fixtures/:

  formats/*          one small file per format variant, all showing the same 64x48 test pattern (pattern() below,
                     mirrored in C# by ImageFixtures.Pattern): JPEG baseline 4:4:4 and 4:2:0, progressive, grayscale,
                     CMYK (Adobe, inverted, as Photoshop writes it), EXIF orientations 2-8 (stored so that applying
                     the orientation shows the upright pattern); PNG of every colour type and bit depth, Adam7
                     interlaced, with alpha; WebP lossy, lossless and with alpha; BMP 24-bit, 32-bit and 8-bit
                     palette; a two-frame GIF whose first frame is the (48-colour) tile pattern.
  photos/*.jpg       real photographs (public domain / CC0, from scikit-image's data folder, python3-skimage):
                     chelsea (Stefan van der Walt, CC0), coffee (Rachel Michetti, CC0), astronaut (NASA, public
                     domain), re-encoded as JPEG quality 90.
  photos/*.eval{224,64}.png  torchvision's evaluation transform of each photo as PIL loads it (no EXIF rotation):
                     Resize(size / 0.875) (bilinear, antialias) + CenterCrop(size), before ToTensor/Normalize, as
                     8-bit RGB; at 64 the larger photos go through ArchGen's scaled JPEG decoding.

The photos are only re-made when SKIMAGE_DATA_DIR (default: the python3-skimage install) holds the originals;
the expected outputs are always recomputed from the committed JPEGs.
"""
import io
import os
import struct
import sys
import zlib

from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "ArchGen.Runtime.Tests", "Data", "Images", "Fixtures")
W, H = 64, 48


def pattern(x, y):
    """The upright test pattern: red grows to the right, green grows downwards, blue marks the top-left quadrant."""
    return (x * 4, y * 5, 200 if (x < W // 2 and y < H // 2) else 40)


def tiles(x, y):
    """A 48-colour version for GIF and palettes: 8x8 tiles."""
    return ((x // 8) * 32, (y // 8) * 40, 128)


def image(fn=pattern, w=W, h=H):
    im = Image.new("RGB", (w, h))
    im.putdata([fn(x, y) for y in range(h) for x in range(w)])
    return im


def luma(rgb):
    r, g, b = rgb
    return (r * 299 + g * 587 + b * 114) // 1000


# --- PNG: a small encoder of our own, because PIL writes neither Adam7 nor 16-bit RGB(A) ---

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(path, w, h, colour, depth, sample, palette=None, interlaced=False, trns=None):
    """sample(x, y) -> tuple of channel values at `depth` bits."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]

    def row_bytes(xs, y):
        bits = []
        for x in xs:
            for v in sample(x, y):
                bits.append(v)
        if depth == 16:
            return b"".join(struct.pack(">H", v) for v in bits)
        if depth == 8:
            return bytes(bits)
        out, acc, n = bytearray(), 0, 0
        for v in bits:
            acc = (acc << depth) | v
            n += depth
            if n == 8:
                out.append(acc)
                acc, n = 0, 0
        if n:
            out.append(acc << (8 - n))
        return bytes(out)

    raw = bytearray()
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    for (x0, y0, dx, dy) in passes:
        xs = list(range(x0, w, dx))
        if not xs:
            continue
        for y in range(y0, h, dy):
            raw.append(0)
            raw += row_bytes(xs, y)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 1 if interlaced else 0))
    if palette is not None:
        data += chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)
    Image.open(path).load()  # PIL reads it back


def write_formats():
    d = os.path.join(OUT, "formats")
    os.makedirs(d, exist_ok=True)
    up = image()

    up.save(os.path.join(d, "jpeg_baseline_444.jpg"), quality=95, subsampling=0)
    up.save(os.path.join(d, "jpeg_baseline_420.jpg"), quality=95, subsampling=2)
    up.save(os.path.join(d, "jpeg_progressive.jpg"), quality=95, subsampling=0, progressive=True)
    up.convert("L").save(os.path.join(d, "jpeg_gray.jpg"), quality=95)
    # CMYK with black generation, so both K and the CMY channels carry the picture.
    cmyk = Image.new("CMYK", (W, H))
    px = []
    for y in range(H):
        for x in range(W):
            r, g, b = pattern(x, y)
            k = 255 - max(r, g, b)
            px.append((255 - r - k, 255 - g - k, 255 - b - k, k))
    cmyk.putdata(px)
    cmyk.save(os.path.join(d, "jpeg_cmyk.jpg"), quality=95)
    # EXIF orientations: store the transform's inverse so that applying the tag gives the upright pattern.
    stored = {
        2: up.transpose(Image.FLIP_LEFT_RIGHT),
        3: up.transpose(Image.ROTATE_180),
        4: up.transpose(Image.FLIP_TOP_BOTTOM),
        5: up.transpose(Image.TRANSPOSE),
        6: up.transpose(Image.ROTATE_90),
        7: up.transpose(Image.TRANSVERSE),
        8: up.transpose(Image.ROTATE_270),
    }
    from PIL import ImageOps
    for orientation, im in stored.items():
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = os.path.join(d, f"jpeg_exif{orientation}.jpg")
        im.save(path, quality=95, subsampling=0, exif=exif.tobytes())
        upright = ImageOps.exif_transpose(Image.open(path))
        assert upright.size == (W, H), (orientation, upright.size)

    # PNG: every colour type and depth, interlaced, alpha.
    def scale(v, depth):
        return v * 257 if depth == 16 else v

    for depth in (8, 16):
        png(os.path.join(d, f"png_rgb{depth}.png"), W, H, 2, depth, lambda x, y: tuple(scale(v, depth) for v in pattern(x, y)))
        png(os.path.join(d, f"png_rgba{depth}.png"), W, H, 6, depth,
            lambda x, y: tuple(scale(v, depth) for v in pattern(x, y) + ((x * 255) // (W - 1),)))
        png(os.path.join(d, f"png_gray{depth}.png"), W, H, 0, depth, lambda x, y: (scale(luma(pattern(x, y)), depth),))
        png(os.path.join(d, f"png_graya{depth}.png"), W, H, 4, depth, lambda x, y: (scale(luma(pattern(x, y)), depth), scale(255 - y, depth)))
    for depth in (1, 2, 4):
        top = (1 << depth) - 1
        png(os.path.join(d, f"png_gray{depth}.png"), W, H, 0, depth, lambda x, y: ((x * top) // (W - 1),))
    pal = sorted({tiles(x, y) for y in range(H) for x in range(W)})
    index = {c: i for i, c in enumerate(pal)}
    png(os.path.join(d, "png_palette8.png"), W, H, 3, 8, lambda x, y: (index[tiles(x, y)],), palette=pal)
    pal16 = pal[:16]
    png(os.path.join(d, "png_palette4.png"), W, H, 3, 4, lambda x, y: ((x // 4) % 16,), palette=pal16)
    png(os.path.join(d, "png_palette_trns.png"), W, H, 3, 8, lambda x, y: (index[tiles(x, y)],), palette=pal,
        trns=bytes(255 if i % 2 else 0 for i in range(len(pal))))
    png(os.path.join(d, "png_interlaced_rgb8.png"), W, H, 2, 8, pattern, interlaced=True)
    png(os.path.join(d, "png_interlaced_rgba16.png"), W, H, 6, 16,
        lambda x, y: tuple(v * 257 for v in pattern(x, y) + (128,)), interlaced=True)

    # WebP.
    up.save(os.path.join(d, "webp_lossy.webp"), quality=95, method=6)
    up.save(os.path.join(d, "webp_lossless.webp"), lossless=True)
    rgba = up.copy()
    rgba.putalpha(Image.linear_gradient("L").resize((W, H)))
    rgba.save(os.path.join(d, "webp_alpha.webp"), lossless=True)

    # BMP.
    up.save(os.path.join(d, "bmp_24.bmp"))
    rgba.save(os.path.join(d, "bmp_32.bmp"))
    image(tiles).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(os.path.join(d, "bmp_8.bmp"))

    # GIF: frame 0 is the tile pattern, frame 1 something else.
    first = image(tiles).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    second = Image.new("RGB", (W, H), (0, 0, 255)).quantize(colors=2)
    first.save(os.path.join(d, "gif_animated.gif"), save_all=True, append_images=[second], duration=100, loop=0)
    assert list(Image.open(os.path.join(d, "gif_animated.gif")).convert("RGB").getdata()) == list(image(tiles).getdata())


def write_photos(skimage_data):
    d = os.path.join(OUT, "photos")
    os.makedirs(d, exist_ok=True)
    names = ["chelsea", "coffee", "astronaut"]
    if skimage_data and os.path.isdir(skimage_data):
        for name in names:
            Image.open(os.path.join(skimage_data, name + ".png")).convert("RGB").save(os.path.join(d, name + ".jpg"), quality=90)

    import torchvision.transforms as T
    for size in (224, 64):
        # PIL path: bilinear with antialias. 64 makes large photos take the scaled JPEG decoding path.
        evaluation = T.Compose([T.Resize(int(size / 0.875)), T.CenterCrop(size)])
        for name in names:
            src = os.path.join(d, name + ".jpg")
            with open(src, "rb") as f:
                im = Image.open(io.BytesIO(f.read())).convert("RGB")  # torchvision's pil_loader
            evaluation(im).save(os.path.join(d, f"{name}.eval{size}.png"), optimize=True)


if __name__ == "__main__":
    default = "/usr/lib/python3/dist-packages/skimage/data"
    write_formats()
    write_photos(sys.argv[1] if len(sys.argv) > 1 else default)
    for root, _, files in sorted(os.walk(OUT)):
        for f in sorted(files):
            p = os.path.join(root, f)
            print(f"{os.path.relpath(p, REPO)}\t{os.path.getsize(p)}")

"use strict";
// classifier.js of the static site `archgen export --web` writes: the model (model.onnx) runs in this browser with
// ONNX Runtime Web (ort/, no CDN), and each photo is prepared as `archgen predict` prepares it, from the model's
// metadata (model.json, written from the ONNX model's): decoded at full resolution, its shorter side resized to
// floor(size / 0.875) with PIL's antialiased bilinear filter (Pillow's Resample.c, as ArchGen's Resampler), center
// cropped to size x size, normalized per channel (gray models: PIL's luma), then the logits' softmax (with flip
// test-time augmentation when the run measured with it).
(() => {
  const PRECISION_BITS = 32 - 8 - 2;

  // Pillow's precompute_coeffs + normalize_coeffs_8bpc for output positions first..first+count-1.
  function taps(inSize, in0, in1, outSize, first, count) {
    const scale = (in1 - in0) / outSize;
    const filterScale = Math.max(scale, 1.0);
    const support = filterScale;
    const size = Math.ceil(support) * 2 + 1;
    const start = new Int32Array(count), n = new Int32Array(count), weights = new Int32Array(count * size);
    const k = new Float64Array(size);
    const ss = 1.0 / filterScale;
    for (let i = 0; i < count; i++) {
      const center = in0 + (first + i + 0.5) * scale;
      let xmin = Math.trunc(center - support + 0.5);
      if (xmin < 0) xmin = 0;
      let xmax = Math.trunc(center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      if (xmax > size) xmax = size;
      let ww = 0;
      for (let x = 0; x < xmax; x++) {
        const t = Math.abs((x + xmin - center + 0.5) * ss);
        const w = t < 1.0 ? 1.0 - t : 0.0;
        k[x] = w;
        ww += w;
      }
      for (let x = 0; x < xmax; x++) {
        const w = ww !== 0.0 ? k[x] / ww : k[x];
        weights[i * size + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
      }
      start[i] = xmin;
      n[i] = Math.max(xmax, 0);
    }
    return { size, start, n, weights };
  }

  function clip8(v) {
    if (v >= 2 ** (PRECISION_BITS + 8)) return 255;
    if (v <= 0) return 0;
    return Math.floor(v / 2 ** PRECISION_BITS);
  }

  // RGBA pixels (w x h) resized to outW x outH, the crop [ox, ox + cw) x [oy, oy + ch) as interleaved RGB bytes.
  function resize(rgba, w, h, outW, outH, ox, oy, cw, ch) {
    const horizontal = taps(w, 0, w, outW, ox, cw), vertical = taps(h, 0, h, outH, oy, ch);
    let rowFirst = vertical.start[0], rowEnd = rowFirst;
    for (let i = 0; i < ch; i++) rowEnd = Math.max(rowEnd, vertical.start[i] + vertical.n[i]);
    const rows = rowEnd - rowFirst, stride = cw * 3, half = 1 << (PRECISION_BITS - 1);
    const temp = new Uint8Array(Math.max(rows, 1) * stride), out = new Uint8Array(ch * stride);
    for (let y = 0; y < rows; y++) {
      const row = (rowFirst + y) * w * 4;
      for (let x = 0; x < cw; x++) {
        let s0 = half, s1 = half, s2 = half;
        const kb = x * horizontal.size;
        let p = row + horizontal.start[x] * 4;
        for (let j = 0; j < horizontal.n[x]; j++, p += 4) {
          const wt = horizontal.weights[kb + j];
          s0 += rgba[p] * wt; s1 += rgba[p + 1] * wt; s2 += rgba[p + 2] * wt;
        }
        temp[y * stride + 3 * x] = clip8(s0); temp[y * stride + 3 * x + 1] = clip8(s1); temp[y * stride + 3 * x + 2] = clip8(s2);
      }
    }
    for (let y = 0; y < ch; y++) {
      const kb = y * vertical.size, first = vertical.start[y] - rowFirst;
      for (let x = 0; x < stride; x++) {
        let s = half;
        for (let j = 0; j < vertical.n[y]; j++) s += temp[(first + j) * stride + x] * vertical.weights[kb + j];
        out[y * stride + x] = clip8(s);
      }
    }
    return out;
  }

  // The model's input: resize (shorter side floor(size / 0.875), the other truncated), center crop (round half to even), normalize.
  function prepare(rgba, w, h, card) {
    const size = card.input_size, channels = card.input_channels;
    const side = Math.floor(size / 0.875 + 1e-9);
    const [rw, rh] = w <= h ? [side, Math.floor(side * h / w)] : [Math.floor(side * w / h), side];
    const even = v => { const f = Math.floor(v); return v - f !== 0.5 ? Math.round(v) : (f % 2 === 0 ? f : f + 1); };
    const top = even((rh - size) / 2), left = even((rw - size) / 2);
    const rgb = resize(rgba, w, h, rw, rh, left, top, size, size);
    const input = new Float32Array(channels * size * size), plane = size * size;
    for (let c = 0; c < channels; c++) {
      const mean = card.mean[c], std = card.std[c];
      const scale = Math.fround(1 / Math.fround(255 * std)), bias = Math.fround(-mean / std);
      for (let i = 0; i < plane; i++) {
        const p = 3 * i;
        const v = channels === 1 ? (rgb[p] * 19595 + rgb[p + 1] * 38470 + rgb[p + 2] * 7471 + 0x8000) >> 16 : rgb[p + c];
        input[c * plane + i] = Math.fround(Math.fround(v * scale) + bias);
      }
    }
    return input;
  }

  function mirrored(input, channels, size) {
    const out = new Float32Array(input.length);
    for (let row = 0; row < channels * size; row++)
      for (let x = 0; x < size; x++) out[row * size + x] = input[row * size + size - 1 - x];
    return out;
  }

  // The limits `archgen predict` reads images within (ArchGen's ImageLimits.Default: PIL's Image.MAX_IMAGE_PIXELS, 256 MiB files).
  const MAX_PIXELS = 89478485, MAX_FILE_BYTES = 256 * 1024 * 1024;

  // Width and height from a PNG, GIF, BMP or JPEG header (null for another format, whose size is checked once decoded).
  async function headerSize(file) {
    const b = new Uint8Array(await file.slice(0, 64 * 1024).arrayBuffer());
    const be32 = i => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return [be32(16), be32(20)];
    if (b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return [b[6] | (b[7] << 8), b[8] | (b[9] << 8)];
    if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) {
      const v = new DataView(b.buffer);
      return [Math.abs(v.getInt32(18, true)), Math.abs(v.getInt32(22, true))];
    }
    if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
      for (let i = 2; i + 9 < b.length;) {
        if (b[i] !== 0xff) return null;
        const marker = b[i + 1], length = (b[i + 2] << 8) | b[i + 3];
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return [(b[i + 7] << 8) | b[i + 8], (b[i + 5] << 8) | b[i + 6]];
        i += 2 + length;
      }
    }
    return null;
  }

  function checkPixels(name, width, height) {
    if (width * height > MAX_PIXELS)
      throw new Error(name + ": the image is " + width + "x" + height + " (" + (width * height).toLocaleString("en-US") + " pixels); images over "
        + MAX_PIXELS.toLocaleString("en-US") + " pixels are refused, as archgen predict refuses them.");
  }

  // The image's RGBA pixels as decoded, not premultiplied by alpha, so a transparent pixel keeps its colour as
  // `archgen predict` reads it (PIL's convert("RGB") drops alpha). A 2D canvas stores premultiplied pixels (a pixel with
  // alpha 0 reads back black); it is exact for opaque images, so only an image with transparency is read again through
  // WebGL, which uploads the bitmap unpremultiplied (in tiles within the largest texture).
  async function pixels(file) {
    if (file.size > MAX_FILE_BYTES) throw new Error(file.name + ": the file is over " + MAX_FILE_BYTES.toLocaleString("en-US") + " bytes, which archgen predict refuses.");
    const size = await headerSize(file);
    if (size) checkPixels(file.name, size[0], size[1]);
    let bitmap;
    try { bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" }); } catch { throw new Error(file.name + " is not an image this browser can read."); }
    try {
      const width = bitmap.width, height = bitmap.height;
      checkPixels(file.name, width, height);
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0);
      const data = context.getImageData(0, 0, width, height).data;
      let opaque = true;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) { opaque = false; break; }
      if (!opaque) await unpremultiplied(bitmap, data, file.name);
      return { data, width, height };
    } finally {
      bitmap.close();
    }
  }

  // Fills data (width x height RGBA) with the bitmap's pixels as they are, through WebGL; without WebGL an image with
  // transparency is refused rather than read with darkened colours.
  async function unpremultiplied(bitmap, data, name) {
    const gl = document.createElement("canvas").getContext("webgl");
    if (!gl) throw new Error(name + " has transparent pixels, which this browser cannot read without darkening them (it has no WebGL); classify it with archgen predict or archgen serve.");
    const tile = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE), 4096), width = bitmap.width, height = bitmap.height;
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.PACK_ALIGNMENT, 1);
    const texture = gl.createTexture(), framebuffer = gl.createFramebuffer();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    try {
      for (let y = 0; y < height; y += tile) {
        for (let x = 0; x < width; x += tile) {
          const w = Math.min(tile, width - x), h = Math.min(tile, height - y);
          const part = x === 0 && y === 0 && w === width && h === height ? bitmap
            : await createImageBitmap(bitmap, x, y, w, h, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
          gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, part);
          if (part !== bitmap) part.close();
          gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
          if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE)
            throw new Error(name + " has transparent pixels, which this browser's WebGL cannot read back; classify it with archgen predict or archgen serve.");
          const out = new Uint8Array(w * h * 4);
          gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, out);
          for (let row = 0; row < h; row++) data.set(out.subarray(row * w * 4, (row + 1) * w * 4), ((y + row) * width + x) * 4);
        }
      }
    } finally {
      gl.deleteFramebuffer(framebuffer);
      gl.deleteTexture(texture);
      const lose = gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
    }
  }

  function script(src) {
    return new Promise((resolve, reject) => {
      const element = document.createElement("script");
      element.src = src;
      element.onload = resolve;
      element.onerror = () => reject(new Error("cannot load " + src));
      document.head.append(element);
    });
  }

  // Opened as a file, the browser refuses to fetch the model, its card and the WebAssembly: say so, not the fetch's own error.
  const FROM_FILE = "This site must be served over HTTP, not opened as a file: browsers do not load its model and WebAssembly from file://. "
    + "In its folder run, say, python3 -m http.server 8000 and open http://localhost:8000/.";
  const fromFile = location.protocol === "file:";
  const cardPromise = fetch("model.json").then(r => r.json()).catch(e => { throw new Error(fromFile ? FROM_FILE : "The model card (model.json) could not be loaded: " + e.message); });
  const sessionPromise = script("ort/ort.wasm.min.js").then(() => {
    ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
    // Several threads need cross-origin isolation (the COOP and COEP headers); without it one thread runs.
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    return ort.InferenceSession.create("model.onnx", { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  });

  window.ArchGenUI.start({
    where: "The model runs here, in this browser (ONNX Runtime Web); the photo is not sent anywhere.",
    card: () => cardPromise,
    classify: async file => {
      const [card, session] = await Promise.all([cardPromise, sessionPromise]);
      const image = await pixels(file);
      const input = prepare(image.data, image.width, image.height, card);
      const shape = [1, card.input_channels, card.input_size, card.input_size];
      const run = async x => (await session.run({ input: new ort.Tensor("float32", x, shape) })).logits.data;
      const logits = Float32Array.from(await run(input));
      if (card.flip_tta) {
        const other = await run(mirrored(input, card.input_channels, card.input_size));
        for (let i = 0; i < logits.length; i++) logits[i] = Math.fround((logits[i] + other[i]) * 0.5);
      }
      const max = Math.max(...logits);
      const exps = Array.from(logits, v => Math.exp(v - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const top = exps.map((e, index) => ({ index, label: card.classes[index], probability: e / sum }))
        .sort((a, b) => b.probability - a.probability || a.index - b.index).slice(0, 5);
      return { label: top[0].label, probability: top[0].probability, top };
    },
  });
  sessionPromise.then(() => { document.body.dataset.ready = "true"; }, e => window.ArchGenUI.status(fromFile ? FROM_FILE : "The model could not be loaded: " + e.message, true));
})();

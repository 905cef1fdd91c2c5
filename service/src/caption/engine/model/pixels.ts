import { ModelSpec } from './model-spec';

/**
 * 8-bit RGB, row-major HWC (what the image intake produces at the model's input size) to the
 * encoder's float CHW input, as ViTImageProcessor computes it: (pixel * rescale - mean) / std.
 */
export function normalizePixels(rgb: Uint8Array, spec: ModelSpec): Float32Array {
  const { width, height } = spec.imageSize;
  const plane = width * height;
  if (rgb.length !== plane * 3) {
    throw new Error(
      `expected ${width}x${height} RGB (${plane * 3} bytes), got ${rgb.length} bytes`,
    );
  }
  const out = new Float32Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(spec.imageMean[c]);
    const std = Math.fround(spec.imageStd[c]);
    const scale = Math.fround(spec.rescaleFactor);
    for (let i = 0; i < plane; i++) {
      const rescaled = Math.fround(rgb[i * 3 + c] * scale);
      out[c * plane + i] = Math.fround(Math.fround(rescaled - mean) / std);
    }
  }
  return out;
}

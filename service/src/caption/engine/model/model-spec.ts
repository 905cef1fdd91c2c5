import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecoderSpec } from '../decoding/decoding-options';

export type ModelDtype = 'fp32' | 'q8';

/** What the engine needs to know about a vision-encoder-decoder folder, read from its JSON files. */
export interface ModelSpec extends DecoderSpec {
  imageSize: { width: number; height: number };
  /** Per channel: value = (pixel * rescale - mean) / std, as ViTImageProcessor does. */
  rescaleFactor: number;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  encoderSequenceLength: number;
  encoderHiddenSize: number;
  decoderLayers: number;
  decoderHeads: number;
  decoderHiddenSize: number;
}

/** transformers.js file names: dtype fp32 reads `<name>.onnx`, q8 reads `<name>_quantized.onnx`. */
export function onnxFileName(name: string, dtype: ModelDtype): string {
  return join('onnx', dtype === 'q8' ? `${name}_quantized.onnx` : `${name}.onnx`);
}

export const MODEL_JSON_FILES = [
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
] as const;

interface RawConfig {
  model_type?: string;
  encoder?: {
    image_size?: number;
    patch_size?: number;
    hidden_size?: number;
    num_channels?: number;
  };
  decoder?: {
    n_layer?: number;
    n_head?: number;
    n_embd?: number;
    vocab_size?: number;
    eos_token_id?: number;
  };
  decoder_start_token_id?: number;
  eos_token_id?: number;
  pad_token_id?: number;
}

export function readModelSpec(modelDir: string): ModelSpec {
  const config = readJson<RawConfig>(modelDir, 'config.json');
  const generation = readJson<Partial<RawConfig>>(modelDir, 'generation_config.json');
  const preprocessor = readJson<{
    size?: { height?: number; width?: number } | number;
    rescale_factor?: number;
    image_mean?: number[];
    image_std?: number[];
    do_normalize?: boolean;
    do_rescale?: boolean;
  }>(modelDir, 'preprocessor_config.json');
  if (config.model_type !== 'vision-encoder-decoder' || !config.encoder || !config.decoder) {
    throw new Error(`${modelDir}/config.json is not a vision-encoder-decoder config`);
  }
  const need = (value: number | undefined, what: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`${modelDir}: config lacks ${what}`);
    }
    return value;
  };
  const imageSide = need(config.encoder.image_size, 'encoder.image_size');
  const patch = need(config.encoder.patch_size, 'encoder.patch_size');
  const size =
    typeof preprocessor.size === 'number'
      ? { width: preprocessor.size, height: preprocessor.size }
      : {
          width: preprocessor.size?.width ?? imageSide,
          height: preprocessor.size?.height ?? imageSide,
        };
  const eos = need(
    generation.eos_token_id ?? config.eos_token_id ?? config.decoder.eos_token_id,
    'eos_token_id',
  );
  const triple = (v: number[] | undefined, fallback: number): [number, number, number] =>
    v && v.length === 3 ? [v[0], v[1], v[2]] : [fallback, fallback, fallback];
  return {
    imageSize: size,
    rescaleFactor: preprocessor.do_rescale === false ? 1 : (preprocessor.rescale_factor ?? 1 / 255),
    imageMean:
      preprocessor.do_normalize === false ? [0, 0, 0] : triple(preprocessor.image_mean, 0.5),
    imageStd: preprocessor.do_normalize === false ? [1, 1, 1] : triple(preprocessor.image_std, 0.5),
    encoderSequenceLength: (imageSide / patch) ** 2 + 1,
    encoderHiddenSize: need(config.encoder.hidden_size, 'encoder.hidden_size'),
    decoderLayers: need(config.decoder.n_layer, 'decoder.n_layer'),
    decoderHeads: need(config.decoder.n_head, 'decoder.n_head'),
    decoderHiddenSize: need(config.decoder.n_embd, 'decoder.n_embd'),
    vocabSize: need(config.decoder.vocab_size, 'decoder.vocab_size'),
    decoderStartTokenId: need(
      generation.decoder_start_token_id ?? config.decoder_start_token_id,
      'decoder_start_token_id',
    ),
    eosTokenId: eos,
    padTokenId: generation.pad_token_id ?? config.pad_token_id ?? eos,
  };
}

function readJson<T>(dir: string, file: string): T {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`missing model file ${path}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The file model:pull writes beside the model: the revision and every file's size and sha256. */
export const MODEL_MANIFEST = 'model-manifest.json';

export interface ModelManifest {
  modelId: string;
  revision: string;
  files: Record<string, { size: number; sha256: string }>;
}

/** The model cannot be had as configured; the message says what to do. */
export class ModelUnavailableError extends Error {}

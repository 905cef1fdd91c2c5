/**
 * Turns the stock hub files into the graphs the engine runs, and caches them beside the model:
 *   optimized/<dtype>/decoder_once.onnx      encoder states -> cross-attention keys/values (once per image)
 *   optimized/<dtype>/decoder_step.onnx      one token step reading those keys/values
 *   optimized/<dtype>/manifest.json          sources, hoisted values, verification result
 * `npm run model:prepare` does it at image build time; the service does it at boot when the
 * cache is missing, into the model folder if writable, else into MODEL_CACHE_DIR.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelDtype, ModelSpec, onnxFileName, readModelSpec } from '../model/model-spec';
import { preparedGraphsTarget } from '../model/model-store';
import {
  ENCODER_STATE_INPUT,
  asModel,
  broadcastHoistedOverBeams,
  encoderStatesAsShape,
  extractDecoderWithPast,
  reorderPastInGraph,
  foldWeightTransforms,
  hoistInvariant,
  signMatMulIntegerWeights,
} from './graph-optimizer';
import { cpuHasVnni } from './cpu-features';
import { Equivalence, compareDecoders } from './decoder-equivalence';
import {
  Graph,
  Model,
  createNode,
  decodeModel,
  encodeModel,
  onnx,
  tensorValueInfo,
} from './onnx-proto';

export const PREPARED_FORMAT = 6;
/** The optimized graphs must reproduce the stock decoder's logits within this. */
export const LOGIT_TOLERANCE = 1e-4;

export interface SourceFile {
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface HoistedValue {
  name: string;
  type: ort.Tensor.Type;
  rank: number;
}

export interface PreparedManifest {
  format: number;
  dtype: ModelDtype;
  sources: { encoder: SourceFile; decoder: SourceFile };
  hoisted: HoistedValue[];
  /** The step graph takes the encoder states' shape (ENCODER_SHAPE_INPUT), not the states. */
  stepReadsEncoderShape: boolean;
  /** The step graph broadcasts hoisted values over beams: feed them once per image. */
  hoistedPerImage: boolean;
  hoistedNodes: number;
  foldedWeights: number;
  /** q8 only: the encoder with int8 (not uint8) weights, for CPUs with VNNI; absent if nothing changed. */
  vnniEncoder?: { file: string; weights: number };
  verification: { batch: number; steps: number; maxAbsLogitDiff: number };
  /** sha256 over the source hashes: names this exact model in caches and metrics. */
  fingerprint: string;
}

export interface PreparedModel {
  modelDir: string;
  dtype: ModelDtype;
  spec: ModelSpec;
  encoderPath: string;
  /** The encoder variant to load on this CPU. */
  encoderToLoad: string;
  oncePath: string;
  stepPath: string;
  manifest: PreparedManifest;
}

export type Log = (message: string) => void;

const ONCE_FILE = 'decoder_once.onnx';
const VNNI_ENCODER_FILE = 'encoder_vnni.onnx';
const STEP_FILE = 'decoder_step.onnx';
const MANIFEST_FILE = 'manifest.json';

export function sourceFiles(
  modelDir: string,
  dtype: ModelDtype,
): { encoder: string; decoder: string } {
  const encoder = onnxFileName('encoder_model', dtype);
  const merged = onnxFileName('decoder_model_merged', dtype);
  const withPast = onnxFileName('decoder_with_past_model', dtype);
  const decoder =
    existsSync(join(modelDir, merged)) || !existsSync(join(modelDir, withPast)) ? merged : withPast;
  return { encoder, decoder };
}

/** Finds valid prepared graphs for the model, or prepares them. */
export async function findOrPrepare(
  modelDir: string,
  dtype: ModelDtype,
  fallbackCacheDir: string,
  log: Log,
): Promise<PreparedModel> {
  const besideModel = join(modelDir, 'optimized', dtype);
  const sources = sourceFiles(modelDir, dtype);
  const quick = await readValidManifest(besideModel, modelDir, sources, false);
  if (quick) return prepared(modelDir, dtype, besideModel, quick);

  const hashed = await describeSources(modelDir, sources);
  const fingerprint = fingerprintOf(hashed);
  const inCache = join(fallbackCacheDir, 'optimized', fingerprint, dtype);
  for (const dir of [besideModel, inCache]) {
    const manifest = await readValidManifest(dir, modelDir, sources, true, hashed);
    if (manifest) return prepared(modelDir, dtype, dir, manifest);
  }
  const target = await preparedGraphsTarget(modelDir, besideModel, inCache, fallbackCacheDir);
  log(`optimized graphs for ${dtype} not found; preparing them into ${target}`);
  return prepareModel(modelDir, dtype, target, log, hashed);
}

/** Builds, checks and writes the optimized graphs for one dtype. */
export async function prepareModel(
  modelDir: string,
  dtype: ModelDtype,
  outDir: string,
  log: Log,
  knownSources?: { encoder: SourceFile; decoder: SourceFile },
): Promise<PreparedModel> {
  const spec = readModelSpec(modelDir);
  const names = sourceFiles(modelDir, dtype);
  const sources = knownSources ?? (await describeSources(modelDir, names));
  const started = Date.now();
  const decoderBytes = await readFile(join(modelDir, names.decoder));
  const stock = decodeModel(decoderBytes, names.decoder);
  const optimized = await optimizeDecoder(stock);
  const { onceBytes, stepBytes, hoisted } = optimized;
  log(
    `split ${names.decoder}: ${optimized.hoistedNodes} nodes run once per image, ` +
      `${hoisted.length} values hoisted, ${optimized.folded} weight transforms folded (${Date.now() - started} ms)`,
  );
  const verification = await compareDecoders(decoderBytes, onceBytes, stepBytes, spec, {
    batch: 2,
    steps: 4,
  });
  if (!(verification.maxAbsLogitDiff <= LOGIT_TOLERANCE)) {
    throw new Error(
      `optimized decoder differs from ${names.decoder}: max |logit diff| ${verification.maxAbsLogitDiff} > ${LOGIT_TOLERANCE}`,
    );
  }
  log(
    `verified: max |logit diff| ${verification.maxAbsLogitDiff} over ${verification.steps} steps`,
  );
  const vnniEncoder =
    dtype === 'q8' ? await signedEncoder(join(modelDir, names.encoder)) : undefined;
  const manifest: PreparedManifest = {
    format: PREPARED_FORMAT,
    dtype,
    sources,
    hoisted,
    stepReadsEncoderShape: optimized.stepReadsEncoderShape,
    hoistedPerImage: optimized.hoistedPerImage,
    hoistedNodes: optimized.hoistedNodes,
    foldedWeights: optimized.folded,
    ...(vnniEncoder
      ? { vnniEncoder: { file: VNNI_ENCODER_FILE, weights: vnniEncoder.weights } }
      : {}),
    verification,
    fingerprint: fingerprintOf(sources),
  };
  await mkdir(outDir, { recursive: true });
  await writeAtomically(join(outDir, ONCE_FILE), onceBytes);
  await writeAtomically(join(outDir, STEP_FILE), stepBytes);
  if (vnniEncoder) await writeAtomically(join(outDir, VNNI_ENCODER_FILE), vnniEncoder.bytes);
  // The manifest goes last: its presence marks a complete set.
  await writeAtomically(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return prepared(modelDir, dtype, outDir, manifest);
}

export const LOG_PROBS_OUTPUT = 'log_probs';

/**
 * Beam search scores tokens by log-probability; ONNX Runtime computes log_softmax over the
 * 50k-token vocabulary far faster than a JavaScript loop, in fp32 as PyTorch does.
 */
function addLogSoftmaxOutput(step: Graph): void {
  step.node.push(
    createNode({
      name: 'caption_service/log_softmax',
      opType: 'LogSoftmax',
      domain: '',
      input: ['logits'],
      output: [LOG_PROBS_OUTPUT],
      attribute: [],
    }),
  );
  step.output.push(
    tensorValueInfo(LOG_PROBS_OUTPUT, onnx.TensorProto.DataType.FLOAT, [
      'batch_size',
      'decoder_sequence_length',
      'vocab',
    ]),
  );
}

export interface OptimizedDecoder {
  onceBytes: Uint8Array;
  stepBytes: Uint8Array;
  hoisted: HoistedValue[];
  hoistedNodes: number;
  folded: number;
  stepReadsEncoderShape: boolean;
  hoistedPerImage: boolean;
}

/** The stock decoder as a runnable pair: once-per-image graph and per-step graph. */
export async function optimizeDecoder(stock: Model): Promise<OptimizedDecoder> {
  const split = hoistInvariant(extractDecoderWithPast(stock), ENCODER_STATE_INPUT);
  const folded = foldWeightTransforms(split.perStep);
  const hoistedPerImage = broadcastHoistedOverBeams(split.perStep, split.hoisted);
  if (split.perStepReadsInvariant && !encoderStatesAsShape(split.perStep)) {
    throw new Error('the per-step graph reads the encoder states for more than their shape');
  }
  const stepReadsEncoderShape = split.perStepReadsInvariant;
  if (reorderPastInGraph(split.perStep) === 0) {
    throw new Error('the per-step graph has no past_key_values inputs');
  }
  addLogSoftmaxOutput(split.perStep);
  const hoisted = await hoistedTypes(asModel(stock, split.once), split.hoisted);
  declareHoisted(split.once, split.perStep, hoisted);
  return {
    onceBytes: encodeModel(asModel(stock, split.once)),
    stepBytes: encodeModel(asModel(stock, split.perStep)),
    hoisted,
    hoistedNodes: split.hoistedNodeCount,
    folded,
    stepReadsEncoderShape,
    hoistedPerImage,
  };
}

/**
 * The quantized encoder with its uint8 MatMulInteger weights shifted to int8 (an exact change,
 * see signMatMulIntegerWeights): VNNI CPUs run it about twice as fast.
 */
async function signedEncoder(
  path: string,
): Promise<{ bytes: Uint8Array; weights: number } | undefined> {
  const model = decodeModel(await readFile(path), path);
  const weights = signMatMulIntegerWeights(model.graph);
  return weights > 0 ? { bytes: encodeModel(model), weights } : undefined;
}

/**
 * The equivalence proof on a stock decoder file: optimize it and compare the optimized pair with
 * it over `steps` steps (the tests and the benchmark run it with more steps than preparation).
 */
export async function proveAgainstStock(
  stockBytes: Uint8Array,
  spec: ModelSpec,
  run: { batch: number; steps: number },
): Promise<Equivalence> {
  const optimized = await optimizeDecoder(decodeModel(stockBytes, 'stock decoder'));
  return compareDecoders(stockBytes, optimized.onceBytes, optimized.stepBytes, spec, run);
}

function prepared(
  modelDir: string,
  dtype: ModelDtype,
  dir: string,
  manifest: PreparedManifest,
): PreparedModel {
  const encoderPath = join(modelDir, manifest.sources.encoder.file);
  const vnni =
    manifest.vnniEncoder && cpuHasVnni() ? join(dir, manifest.vnniEncoder.file) : undefined;
  return {
    modelDir,
    dtype,
    spec: readModelSpec(modelDir),
    encoderPath,
    encoderToLoad: vnni ?? encoderPath,
    oncePath: join(dir, ONCE_FILE),
    stepPath: join(dir, STEP_FILE),
    manifest,
  };
}

async function readValidManifest(
  dir: string,
  modelDir: string,
  names: { encoder: string; decoder: string },
  byHash: boolean,
  hashed?: { encoder: SourceFile; decoder: SourceFile },
): Promise<PreparedManifest | null> {
  let manifest: PreparedManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as PreparedManifest;
  } catch {
    return null;
  }
  if (manifest.format !== PREPARED_FORMAT) return null;
  if (!existsSync(join(dir, ONCE_FILE)) || !existsSync(join(dir, STEP_FILE))) return null;
  for (const key of ['encoder', 'decoder'] as const) {
    const recorded = manifest.sources[key];
    if (recorded.file !== names[key]) return null;
    if (byHash) {
      if (!hashed || hashed[key].sha256 !== recorded.sha256) return null;
    } else {
      // Cheap check at every boot: the same file, untouched since it was hashed.
      const info = await stat(join(modelDir, recorded.file)).catch(() => null);
      if (!info || info.size !== recorded.size || info.mtimeMs !== recorded.mtimeMs) return null;
    }
  }
  return manifest;
}

async function describeSources(
  modelDir: string,
  names: { encoder: string; decoder: string },
): Promise<{ encoder: SourceFile; decoder: SourceFile }> {
  const describe = async (file: string): Promise<SourceFile> => {
    const path = join(modelDir, file);
    const info = await stat(path).catch(() => {
      throw new Error(`missing model file ${path}`);
    });
    return { file, size: info.size, mtimeMs: info.mtimeMs, sha256: await sha256File(path) };
  };
  return { encoder: await describe(names.encoder), decoder: await describe(names.decoder) };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fingerprintOf(sources: { encoder: SourceFile; decoder: SourceFile }): string {
  return createHash('sha256')
    .update(`${PREPARED_FORMAT}:${sources.encoder.sha256}:${sources.decoder.sha256}`)
    .digest('hex');
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}

const ELEM_TYPES: Record<string, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** ORT infers the hoisted values' types; graph inputs must declare them. */
async function hoistedTypes(onceModel: Model, names: string[]): Promise<HoistedValue[]> {
  const session = await ort.InferenceSession.create(encodeModel(onceModel), {
    graphOptimizationLevel: 'basic',
  });
  try {
    return names.map((name) => {
      const meta = session.outputMetadata.find((m) => m.name === name);
      if (!meta || !meta.isTensor) throw new Error(`hoisted value ${name} is not a tensor output`);
      return { name, type: meta.type, rank: meta.shape.length };
    });
  } finally {
    await session.release();
  }
}

function declareHoisted(once: Graph, step: Graph, hoisted: HoistedValue[]): void {
  const typed = new Map(
    hoisted.map((h, i) => {
      const elemType = ELEM_TYPES[h.type];
      if (elemType === undefined) {
        throw new Error(`hoisted value ${h.name} has unsupported type ${h.type}`);
      }
      const shape = Array.from({ length: h.rank }, (_, d) =>
        d === 0 ? 'batch_size' : `hoisted_${i}_dim_${d}`,
      );
      return [h.name, tensorValueInfo(h.name, elemType, shape)];
    }),
  );
  once.output = once.output.map((o) => typed.get(o.name) ?? o);
  step.input = step.input.map((i) => typed.get(i.name) ?? i);
}

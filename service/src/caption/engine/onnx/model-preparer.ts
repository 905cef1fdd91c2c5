/**
 * Turns the stock hub files into the graphs the engine runs, and caches them beside the model:
 *   optimized/<dtype>/decoder_once.onnx      encoder states -> cross-attention keys/values (once per image)
 *   optimized/<dtype>/decoder_step.onnx      one token step reading those keys/values
 *   optimized/<dtype>/manifest.json          sources, hoisted values, verification result
 * `npm run model:prepare` does it at image build time; the service does it at boot when the
 * cache is missing, into the model folder if writable, else into MODEL_CACHE_DIR.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelDtype, ModelSpec, onnxFileName, readModelSpec } from '../model/model-spec';
import {
  ENCODER_STATE_INPUT,
  asModel,
  extractDecoderWithPast,
  foldWeightTransforms,
  hoistInvariant,
} from './graph-optimizer';
import { Graph, Model, createNode, decodeModel, encodeModel, onnx, tensorValueInfo } from './onnx-proto';

export const PREPARED_FORMAT = 3;
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
  stepReadsEncoderStates: boolean;
  hoistedNodes: number;
  foldedWeights: number;
  verification: { batch: number; steps: number; maxAbsLogitDiff: number };
  /** sha256 over the source hashes: names this exact model in caches and metrics. */
  fingerprint: string;
}

export interface PreparedModel {
  modelDir: string;
  dtype: ModelDtype;
  spec: ModelSpec;
  encoderPath: string;
  oncePath: string;
  stepPath: string;
  manifest: PreparedManifest;
}

export type Log = (message: string) => void;

const ONCE_FILE = 'decoder_once.onnx';
const STEP_FILE = 'decoder_step.onnx';
const MANIFEST_FILE = 'manifest.json';

export function sourceFiles(modelDir: string, dtype: ModelDtype): { encoder: string; decoder: string } {
  const encoder = onnxFileName('encoder_model', dtype);
  const merged = onnxFileName('decoder_model_merged', dtype);
  const withPast = onnxFileName('decoder_with_past_model', dtype);
  const decoder = existsSync(join(modelDir, merged)) || !existsSync(join(modelDir, withPast)) ? merged : withPast;
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
  const target = (await isWritable(modelDir)) ? besideModel : inCache;
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
  const withPast = extractDecoderWithPast(stock);
  const split = hoistInvariant(withPast, ENCODER_STATE_INPUT);
  const folded = foldWeightTransforms(split.perStep);
  addLogSoftmaxOutput(split.perStep);
  const hoisted = await hoistedTypes(asModel(stock, split.once), split.hoisted);
  declareHoisted(split.once, split.perStep, hoisted);
  const onceBytes = encodeModel(asModel(stock, split.once));
  const stepBytes = encodeModel(asModel(stock, split.perStep));
  log(
    `split ${names.decoder}: ${split.hoistedNodeCount} nodes run once per image, ` +
      `${hoisted.length} values hoisted, ${folded} weight transforms folded (${Date.now() - started} ms)`,
  );
  const verification = await verifyAgainstStock(decoderBytes, onceBytes, stepBytes, spec, hoisted);
  if (!(verification.maxAbsLogitDiff <= LOGIT_TOLERANCE)) {
    throw new Error(
      `optimized decoder differs from ${names.decoder}: max |logit diff| ${verification.maxAbsLogitDiff} > ${LOGIT_TOLERANCE}`,
    );
  }
  log(`verified: max |logit diff| ${verification.maxAbsLogitDiff} over ${verification.steps} steps`);
  const manifest: PreparedManifest = {
    format: PREPARED_FORMAT,
    dtype,
    sources,
    hoisted,
    stepReadsEncoderStates: split.perStepReadsInvariant,
    hoistedNodes: split.hoistedNodeCount,
    foldedWeights: folded,
    verification,
    fingerprint: fingerprintOf(sources),
  };
  await mkdir(outDir, { recursive: true });
  await writeAtomically(join(outDir, ONCE_FILE), onceBytes);
  await writeAtomically(join(outDir, STEP_FILE), stepBytes);
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
  step.output.push(tensorValueInfo(LOG_PROBS_OUTPUT, onnx.TensorProto.DataType.FLOAT, ['batch_size', 'decoder_sequence_length', 'vocab']));
}

function prepared(modelDir: string, dtype: ModelDtype, dir: string, manifest: PreparedManifest): PreparedModel {
  return {
    modelDir,
    dtype,
    spec: readModelSpec(modelDir),
    encoderPath: join(modelDir, manifest.sources.encoder.file),
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

async function isWritable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
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
  const session = await ort.InferenceSession.create(encodeModel(onceModel), { graphOptimizationLevel: 'basic' });
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
      if (elemType === undefined) throw new Error(`hoisted value ${h.name} has unsupported type ${h.type}`);
      const shape = Array.from({ length: h.rank }, (_, d) => (d === 0 ? 'batch_size' : `hoisted_${i}_dim_${d}`));
      return [h.name, tensorValueInfo(h.name, elemType, shape)];
    }),
  );
  once.output = once.output.map((o) => typed.get(o.name) ?? o);
  step.input = step.input.map((i) => typed.get(i.name) ?? i);
}

/**
 * Runs the stock decoder and the optimized pair side by side on random encoder states for a few
 * greedy steps with batch 2, and returns the largest logit difference.
 */
async function verifyAgainstStock(
  stockBytes: Uint8Array,
  onceBytes: Uint8Array,
  stepBytes: Uint8Array,
  spec: ModelSpec,
  hoisted: HoistedValue[],
): Promise<{ batch: number; steps: number; maxAbsLogitDiff: number }> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', interOpNumThreads: 1 };
  const [stock, once, step] = await Promise.all([
    ort.InferenceSession.create(stockBytes, options),
    ort.InferenceSession.create(onceBytes, options),
    ort.InferenceSession.create(stepBytes, options),
  ]);
  try {
    const batch = 2;
    const steps = 4;
    const states = randomTensor([batch, spec.encoderSequenceLength, spec.encoderHiddenSize], 7);
    const onceOut = await once.run({ [ENCODER_STATE_INPUT]: states });
    for (const h of hoisted) {
      if (onceOut[h.name].dims[0] !== batch) {
        throw new Error(`hoisted value ${h.name} is not batch-major (dims ${onceOut[h.name].dims.join('x')})`);
      }
    }
    const headDim = spec.decoderHiddenSize / spec.decoderHeads;
    const emptyPast = () => new ort.Tensor('float32', new Float32Array(0), [batch, spec.decoderHeads, 0, headDim]);
    let stockPast: Record<string, ort.Tensor> = {};
    let ourPast: Record<string, ort.Tensor> = {};
    for (let layer = 0; layer < spec.decoderLayers; layer++) {
      for (const kv of ['key', 'value']) {
        stockPast[`past_key_values.${layer}.${kv}`] = emptyPast();
        ourPast[`past_key_values.${layer}.${kv}`] = emptyPast();
      }
    }
    let tokens = new Array<number>(batch).fill(spec.decoderStartTokenId);
    let maxDiff = 0;
    for (let s = 0; s < steps; s++) {
      const inputIds = new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [batch, 1]);
      const stockFeeds: Record<string, ort.Tensor> = { input_ids: inputIds, [ENCODER_STATE_INPUT]: states, ...stockPast };
      if (stock.inputNames.includes('use_cache_branch')) {
        stockFeeds.use_cache_branch = new ort.Tensor('bool', [s > 0], [1]);
      }
      const ourFeeds: Record<string, ort.Tensor> = { input_ids: inputIds, ...ourPast };
      for (const h of hoisted) ourFeeds[h.name] = onceOut[h.name];
      if (step.inputNames.includes(ENCODER_STATE_INPUT)) ourFeeds[ENCODER_STATE_INPUT] = states;
      const [a, b] = [await stock.run(stockFeeds), await step.run(ourFeeds)];
      const la = a.logits.data as Float32Array;
      const lb = b.logits.data as Float32Array;
      for (let i = 0; i < la.length; i++) maxDiff = Math.max(maxDiff, Math.abs(la[i] - lb[i]));
      stockPast = presentsAsPast(a);
      ourPast = presentsAsPast(b);
      tokens = tokens.map((_, r) => argmaxRow(la, r, spec.vocabSize));
    }
    return { batch, steps, maxAbsLogitDiff: maxDiff };
  } finally {
    await Promise.all([stock.release(), once.release(), step.release()]);
  }
}

function presentsAsPast(outputs: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (const [name, value] of Object.entries(outputs)) {
    if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = value as ort.Tensor;
  }
  return past;
}

function argmaxRow(data: Float32Array, row: number, vocab: number): number {
  let best = 0;
  for (let v = 1; v < vocab; v++) if (data[row * vocab + v] > data[row * vocab + best]) best = v;
  return best;
}

function randomTensor(shape: number[], seed: number): ort.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 2 - 1;
  }
  return new ort.Tensor('float32', data, shape);
}

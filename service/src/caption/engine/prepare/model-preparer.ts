/**
 * The prepare side's entry points: find a model's prepared graphs, or build, prove and write
 * them. `npm run model:prepare` does it at image build time; the service does it at boot (off
 * the HTTP thread, see prepare-off-thread.ts) when the cache is missing, into the model folder
 * if writable, else into MODEL_CACHE_DIR.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelDtype, readModelSpec } from '../model/model-spec';
import { preparedGraphsTarget } from '../model/model-store';
import { PreparedManifest, PreparedModel, StepVariant } from '../prepared-model';
import { compareDecoders } from './decoder-equivalence';
import { decodeModel } from './onnx-proto';
import { DecoderVariant, optimizeDecoder, signedEncoder } from './pass-pipeline';
import { cpuHasVnni } from './cpu-features';
import {
  FAST_STEP_FILE,
  ONCE_FILE,
  PREPARED_FORMAT,
  STEP_FILE,
  Sources,
  VNNI_ENCODER_FILE,
  describeSources,
  findByHash,
  findQuickly,
  fingerprintOf,
  preparedModel,
  sourceFiles,
  writePrepared,
} from './prepared-cache';

export { proveAgainstStock } from './decoder-equivalence';
export { sourceFiles } from './prepared-cache';

/** The exact graphs must reproduce the stock decoder's logits within this. */
export const LOGIT_TOLERANCE = 1e-4;
/**
 * The fast step may differ from the stock logits by at most this fraction of their largest
 * magnitude; a layout mistake in the int8 head would give differences of the logits' own size.
 */
export const FAST_LOGIT_TOLERANCE = 0.05;

/** The fast variant of a q8 step: the int8 LM head on the kernel measured fastest (README). */
export function fastVariant(): DecoderVariant {
  return { int8Head: { kernel: 'dynamic-quantize-matmul', signedWeights: cpuHasVnni() } };
}

export type Log = (message: string) => void;

/** Finds valid prepared graphs for the model, or prepares them. */
export async function findOrPrepare(
  modelDir: string,
  dtype: ModelDtype,
  fallbackCacheDir: string,
  log: Log,
): Promise<PreparedModel> {
  const quick = await findQuickly(modelDir, dtype);
  if (quick) return quick;

  const hashed = await describeSources(modelDir, sourceFiles(modelDir, dtype));
  const besideModel = join(modelDir, 'optimized', dtype);
  const inCache = join(fallbackCacheDir, 'optimized', fingerprintOf(hashed), dtype);
  for (const dir of [besideModel, inCache]) {
    const found = await findByHash(dir, modelDir, dtype, hashed);
    if (found) return found;
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
  knownSources?: Sources,
): Promise<PreparedModel> {
  const spec = readModelSpec(modelDir);
  const names = sourceFiles(modelDir, dtype);
  const sources = knownSources ?? (await describeSources(modelDir, names));
  const started = Date.now();
  const decoderBytes = await readFile(join(modelDir, names.decoder));
  const optimized = await optimizeDecoder(decodeModel(decoderBytes, names.decoder), spec);
  const { onceBytes, stepBytes, hoisted } = optimized;
  log(
    `split ${names.decoder}: ${optimized.hoistedNodes} nodes run once per image, ` +
      `${hoisted.length} values hoisted, ${optimized.folded} weight transforms folded, ` +
      `${optimized.shapeNodesFolded} shape nodes folded (${Date.now() - started} ms)`,
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
  const fast = dtype === 'q8' ? await prepareFastStep(decoderBytes, spec, log) : undefined;
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
    ...(fast ? { fastStep: fast.variant } : {}),
    fingerprint: fingerprintOf(sources),
  };
  await mkdir(outDir, { recursive: true });
  await writePrepared(
    outDir,
    {
      [ONCE_FILE]: onceBytes,
      [STEP_FILE]: stepBytes,
      ...(fast ? { [FAST_STEP_FILE]: fast.bytes } : {}),
      ...(vnniEncoder ? { [VNNI_ENCODER_FILE]: vnniEncoder.bytes } : {}),
    },
    manifest,
  );
  return preparedModel(modelDir, dtype, outDir, manifest);
}

/** The fast step graph of a q8 decoder, proven against the stock one (same run as the exact). */
async function prepareFastStep(
  decoderBytes: Uint8Array,
  spec: ReturnType<typeof readModelSpec>,
  log: Log,
): Promise<{ bytes: Uint8Array; variant: StepVariant }> {
  const variant = fastVariant();
  const optimized = await optimizeDecoder(
    decodeModel(decoderBytes, 'stock decoder'),
    spec,
    variant,
  );
  const verification = await compareDecoders(
    decoderBytes,
    optimized.onceBytes,
    optimized.stepBytes,
    spec,
    { batch: 2, steps: 4 },
  );
  const bound = FAST_LOGIT_TOLERANCE * verification.maxAbsLogit;
  if (!(verification.maxAbsLogitDiff <= bound)) {
    throw new Error(
      `the int8 LM head differs from the stock decoder by ${verification.maxAbsLogitDiff} (> ${bound})`,
    );
  }
  log(
    `fast step (int8 LM head): max |logit diff| ${verification.maxAbsLogitDiff.toPrecision(3)} ` +
      `of max |logit| ${verification.maxAbsLogit.toPrecision(3)}, same top token in ` +
      `${(100 * verification.argmaxAgreement).toFixed(0)}% of steps`,
  );
  return {
    bytes: optimized.stepBytes,
    variant: {
      file: FAST_STEP_FILE,
      change: `int8 LM head (${variant.int8Head!.kernel})`,
      verification,
    },
  };
}

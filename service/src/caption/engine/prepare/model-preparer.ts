/**
 * The prepare side's entry points: find a model's prepared graphs, or build, prove and write
 * them. `npm run model:prepare` does it at image build time; the service does it at boot (off
 * the HTTP thread, see prepare-off-thread.ts) when the cache is missing, into the model folder
 * if writable, else into MODEL_CACHE_DIR.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelDtype, readModelSpec } from '../model/model-spec';
import { PreparedManifest, PreparedModel } from '../prepared-model';
import { compareDecoders } from './decoder-equivalence';
import { decodeModel } from './onnx-proto';
import { optimizeDecoder, signedEncoder } from './pass-pipeline';
import {
  ONCE_FILE,
  PREPARED_FORMAT,
  STEP_FILE,
  Sources,
  VNNI_ENCODER_FILE,
  describeSources,
  findByHash,
  findQuickly,
  fingerprintOf,
  isWritable,
  preparedModel,
  sourceFiles,
  writePrepared,
} from './prepared-cache';

export { proveAgainstStock } from './decoder-equivalence';
export { sourceFiles } from './prepared-cache';

/** The optimized graphs must reproduce the stock decoder's logits within this. */
export const LOGIT_TOLERANCE = 1e-4;

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
  knownSources?: Sources,
): Promise<PreparedModel> {
  const spec = readModelSpec(modelDir);
  const names = sourceFiles(modelDir, dtype);
  const sources = knownSources ?? (await describeSources(modelDir, names));
  const started = Date.now();
  const decoderBytes = await readFile(join(modelDir, names.decoder));
  const optimized = await optimizeDecoder(decodeModel(decoderBytes, names.decoder));
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
  await writePrepared(
    outDir,
    {
      [ONCE_FILE]: onceBytes,
      [STEP_FILE]: stepBytes,
      ...(vnniEncoder ? { [VNNI_ENCODER_FILE]: vnniEncoder.bytes } : {}),
    },
    manifest,
  );
  return preparedModel(modelDir, dtype, outDir, manifest);
}

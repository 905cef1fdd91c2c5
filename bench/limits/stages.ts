/**
 * Each stage of a caption, timed on the engine's own sessions (the code the inference worker
 * runs, in this thread) beside the time the machine's limits allow for it: the larger of
 * (bytes streamed / memory bandwidth) and (int8 MACs / int8 rate + fp32 MACs / fp32 rate).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelSpec, PreparedModel, loadCaptionModel } from '../engine-api';
import { GraphCost, graphCost, weightMacs } from './graph-cost';
import { MachineLimits } from './machine-limits';

export interface StageCost {
  bytes: number;
  int8Macs: number;
  fp32Macs: number;
}

export interface StageResult extends StageCost {
  stage: string;
  /** Time at the memory-bandwidth limit and at the arithmetic limit; the limit is the larger. */
  bandwidthMs: number;
  computeMs: number;
  limitMs: number;
  measuredMs: number;
}

/** Past length of the timed decoder steps: the middle of a 15-token caption. */
export const STEP_POSITION = 7;
/** Decoder step shapes timed: rows = images x beams. */
export const STEP_SHAPES = [
  { rows: 1, images: 1, beams: 1 },
  { rows: 4, images: 1, beams: 4 },
  { rows: 16, images: 4, beams: 4 },
];

export function limitOf(cost: StageCost, limits: MachineLimits) {
  const bandwidthMs = (cost.bytes / (limits.bandwidthGbPerSecond * 1e9)) * 1000;
  const computeMs =
    (cost.int8Macs / (limits.int8GmacPerSecond * 1e9) +
      cost.fp32Macs / (limits.fp32GmacPerSecond * 1e9)) *
    1000;
  return { bandwidthMs, computeMs, limitMs: Math.max(bandwidthMs, computeMs) };
}

function encoderLayers(modelDir: string): number {
  const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as {
    encoder?: { num_hidden_layers?: number };
  };
  return config.encoder?.num_hidden_layers ?? 12;
}

/**
 * Weight products from the graphs; attention products (two activations) from the dimensions:
 * scores and values are each seq x keys x hidden per layer per row. Activations streamed by a
 * step: the cross-attention keys/values of each image and the self-attention cache of each row.
 */
export function stageCosts(prepared: PreparedModel) {
  const spec = prepared.spec;
  const seq = spec.encoderSequenceLength;
  const hidden = spec.decoderHiddenSize;
  const encoder = graphCost(prepared.encoderToLoad);
  const once = graphCost(prepared.oncePath);
  const step = graphCost(prepared.stepPath);
  const withAttention = (cost: GraphCost, rows: number, patches: number, attention: number) => {
    const m = weightMacs(cost, rows, patches);
    return { int8: m.int8, fp32: m.fp32 + attention };
  };
  const enc = withAttention(
    encoder,
    seq,
    seq - 1,
    encoderLayers(prepared.modelDir) * 2 * seq * seq * spec.encoderHiddenSize,
  );
  const kv = withAttention(once, seq, 0, 0);
  const costs: Record<string, StageCost> = {
    'encoder (1 image)': { bytes: encoder.weightBytes, int8Macs: enc.int8, fp32Macs: enc.fp32 },
    'cross-attention K/V (1 image)': {
      bytes: once.weightBytes,
      int8Macs: kv.int8,
      fp32Macs: kv.fp32,
    },
  };
  const crossBytes = spec.decoderLayers * 2 * seq * hidden * 4;
  const pastBytes = spec.decoderLayers * 2 * STEP_POSITION * hidden * 4;
  for (const { rows, images, beams } of STEP_SHAPES) {
    const keys = STEP_POSITION + 1 + seq;
    const m = withAttention(step, rows, 0, spec.decoderLayers * 2 * rows * keys * hidden);
    costs[`decoder step, ${rows} row${rows > 1 ? 's' : ''} (${images}x${beams})`] = {
      bytes: step.weightBytes + images * crossBytes + rows * pastBytes,
      int8Macs: m.int8,
      fp32Macs: m.fp32,
    };
  }
  return costs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

function randomPixels(spec: ModelSpec, images: number): Float32Array {
  const n = images * 3 * spec.imageSize.width * spec.imageSize.height;
  return Float32Array.from({ length: n }, (_, i) => (((i * 2654435761) >>> 0) / 2 ** 32) * 2 - 1);
}

/** Median times of each stage on the engine's sessions with `threads` intra-op threads. */
export async function measureStages(
  prepared: PreparedModel,
  threads: number,
  runs: number,
): Promise<Record<string, number>> {
  const model = await loadCaptionModel(prepared, threads);
  const spec = model.spec;
  const out: Record<string, number> = {};
  try {
    const states1 = await model.encode(randomPixels(spec, 1), 1);
    out['encoder (1 image)'] = await timeIt(runs, () => model.encode(randomPixels(spec, 1), 1));
    out['cross-attention K/V (1 image)'] = await timeIt(runs, () => model.crossAttention(states1));
    const states4 = await model.encode(randomPixels(spec, 4), 4);
    for (const { rows, images, beams } of STEP_SHAPES) {
      const hoisted = await model.crossAttention(images === 1 ? states1 : states4);
      // The step broadcasts each image's keys/values over its beams when the graph allows it.
      const perRow = model.hoistedPerImage
        ? hoisted
        : Object.fromEntries(Object.entries(hoisted).map(([n, t]) => [n, repeatRows(t, beams)]));
      const identity = Array.from({ length: rows }, (_, r) => r);
      const tokens = new Array<number>(rows).fill(spec.decoderStartTokenId);
      const want = new Set(['logProbs' as const]);
      const step = (past: ort.Tensor[], position: number) =>
        model.decodeStep({
          inputIds: tokens,
          positions: new Array<number>(rows).fill(position),
          past,
          pastRows: identity,
          cacheLength: position,
          hoisted: perRow,
          want,
        });
      let past = model.emptyPast(rows);
      for (let s = 0; s < STEP_POSITION; s++) past = (await step(past, s)).presents;
      const label = `decoder step, ${rows} row${rows > 1 ? 's' : ''} (${images}x${beams})`;
      out[label] = await timeIt(runs, () => step(past, STEP_POSITION));
    }
  } finally {
    await model.release();
  }
  return out;
}

function repeatRows(t: ort.Tensor, times: number): ort.Tensor {
  const rowSize = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = t.data as Float32Array;
  const out = new Float32Array(t.dims[0] * times * rowSize);
  for (let r = 0; r < t.dims[0] * times; r++) {
    const src = Math.floor(r / times);
    out.set(data.subarray(src * rowSize, (src + 1) * rowSize), r * rowSize);
  }
  return new ort.Tensor('float32', out, [t.dims[0] * times, ...t.dims.slice(1)]);
}

export async function stageTable(
  prepared: PreparedModel,
  limits: MachineLimits,
  threads: number,
  runs: number,
): Promise<StageResult[]> {
  const costs = stageCosts(prepared);
  const measured = await measureStages(prepared, threads, runs);
  return Object.entries(costs).map(([stage, cost]) => ({
    stage,
    ...cost,
    ...limitOf(cost, limits),
    measuredMs: measured[stage],
  }));
}

/** The same stages against other limits (the costs and the measured times do not change). */
export function againstLimits(stages: StageResult[], limits: MachineLimits): StageResult[] {
  return stages.map((s) => ({ ...s, ...limitOf(s, limits) }));
}

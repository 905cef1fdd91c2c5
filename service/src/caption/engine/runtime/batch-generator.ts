import type * as ort from 'onnxruntime-node';
import { EngineResult } from '../caption-engine';
import { DecodingOptions } from '../decoding/decoding-options';
import {
  ScoreKind,
  SearchedSequence,
  SequenceSearch,
  createSequenceSearch,
} from '../decoding/sequence-search';
import { ModelSpec } from '../model/model-spec';
import { StepOutput, TensorMap } from './onnx-caption-model';

/** The parts of OnnxCaptionModel the generator uses (a fake can stand in for tests). */
export interface StepModel {
  readonly spec: ModelSpec;
  /** The step graph takes cross-attention values once per image and broadcasts them over beams. */
  readonly hoistedPerImage: boolean;
  encode(pixels: Float32Array, images: number): Promise<ort.Tensor>;
  crossAttention(states: ort.Tensor): Promise<TensorMap>;
  decodeStep(
    inputIds: number[],
    past: ort.Tensor[],
    pastRows: number[],
    hoisted: TensorMap,
    want: Set<ScoreKind>,
  ): Promise<StepOutput>;
  emptyPast(rows: number): ort.Tensor[];
}

export interface BatchItem {
  id: string;
  /** [3, H, W] normalized pixel values. */
  pixels: Float32Array;
  options: DecodingOptions;
}

/** An image's result before its tokens are turned into text (the worker's tokenizer does that). */
export type ItemResult = { id: string; sequences: SearchedSequence[] } & Pick<
  EngineResult,
  'encoderMs' | 'decodingMs' | 'batchImages'
>;

export interface BatchHooks {
  isCancelled(id: string): boolean;
  onResult(result: ItemResult): void;
  onCancelled(id: string): void;
  /** Lets cancel messages in between decoder steps. */
  yieldToEvents(): Promise<void>;
}

export type GatherRows = (source: ort.Tensor, rows: number[]) => ort.Tensor;

interface Active {
  item: BatchItem;
  image: number;
  search: SequenceSearch;
}

/**
 * Captions a batch of images together: one encoder run and one cross-attention run for all of
 * them, then decoder steps over every live row (images x beams). An image leaves the batch as
 * soon as its search is done or it is cancelled; the rest carry on. Images cannot join a
 * running batch: the exported decoder has no attention mask or position input, so every row of
 * a step must be at the same position.
 */
export async function generateBatch(
  model: StepModel,
  items: BatchItem[],
  hooks: BatchHooks,
  gatherRows: GatherRows,
): Promise<void> {
  const spec = model.spec;
  const images = items.length;
  const plane = 3 * spec.imageSize.width * spec.imageSize.height;
  const pixels = new Float32Array(images * plane);
  items.forEach((item, i) => pixels.set(item.pixels, i * plane));

  const started = performance.now();
  const states = await model.encode(pixels, images);
  const hoisted = await model.crossAttention(states);
  const encoderMs = performance.now() - started;
  const decodeStarted = performance.now();

  let active: Active[] = items.map((item, image) => ({
    item,
    image,
    search: createSequenceSearch(item.options, spec),
  }));
  let rowHoisted: TensorMap = {};
  const layoutRows = () => {
    // Images with equal beam counts share one copy of their keys/values (the step graph
    // broadcasts it over their beams); a mix of beam counts gets one copy per row.
    const uniform = active.every((a) => a.search.rowCount === active[0].search.rowCount);
    const sources =
      model.hoistedPerImage && uniform
        ? active.map((a) => a.image)
        : active.flatMap((a) => new Array<number>(a.search.rowCount).fill(a.image));
    rowHoisted = Object.fromEntries(
      Object.entries(hoisted).map(([name, t]) => [name, gatherRows(t, sources)]),
    );
  };
  layoutRows();
  let past = model.emptyPast(active.reduce((rows, a) => rows + a.search.rowCount, 0));
  // Row r of the next step continues row pastRows[r] of `past` (beam reordering, dropped rows).
  let pastRows = Array.from({ length: past[0]?.dims[0] ?? 0 }, (_, r) => r);

  while (active.length > 0) {
    const before = active.length;
    const kept: number[] = [];
    let row = 0;
    active = active.filter((a) => {
      const rows = a.search.rowCount;
      const cancelled = hooks.isCancelled(a.item.id);
      if (cancelled) hooks.onCancelled(a.item.id);
      else for (let r = 0; r < rows; r++) kept.push(pastRows[row + r]);
      row += rows;
      return !cancelled;
    });
    if (active.length === 0) break;
    if (active.length !== before) {
      pastRows = kept;
      layoutRows();
    }

    const tokens = active.flatMap((a) => a.search.nextTokens());
    const want = new Set(active.map((a) => a.search.scores));
    const out = await model.decodeStep(tokens, past, pastRows, rowHoisted, want);

    const nextRows: number[] = [];
    const survivors: Active[] = [];
    let firstRow = 0;
    for (const a of active) {
      const sources = a.search.advance(out, firstRow);
      if (a.search.done) {
        hooks.onResult({
          id: a.item.id,
          sequences: a.search.result(),
          encoderMs,
          decodingMs: performance.now() - decodeStarted,
          batchImages: images,
        });
      } else {
        survivors.push(a);
        for (const s of sources) nextRows.push(firstRow + s);
      }
      firstRow += a.search.rowCount;
    }
    const layoutChanged = survivors.length !== active.length;
    active = survivors;
    if (active.length === 0) break;
    past = out.presents;
    pastRows = nextRows;
    if (layoutChanged) layoutRows();
    await hooks.yieldToEvents();
  }
}

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
import { HoistedLayout, RowSource } from './hoisted-layout';
import { StepOutput, TensorMap } from './onnx-caption-model';

/** The parts of OnnxCaptionModel the loop uses (a fake can stand in for tests). */
export interface StepModel {
  readonly spec: ModelSpec;
  /** The step graph takes cross-attention values once per image and broadcasts them over beams. */
  readonly hoistedPerImage: boolean;
  encode(pixels: Float32Array, images: number): Promise<ort.Tensor>;
  crossAttention(states: ort.Tensor): Promise<TensorMap>;
  decodeStep(step: StepInput): Promise<StepOutput>;
  emptyPast(rows: number): ort.Tensor[];
}

/** One decoder step over rows that may be at different positions. */
export interface StepInput {
  inputIds: number[];
  /** Each row's position: the tokens already in its cache. */
  positions: number[];
  past: ort.Tensor[];
  /** Row r of this step continues row pastRows[r] of `past`. */
  pastRows: number[];
  /** How much of `past` the step keeps: the longest row's position. */
  cacheLength: number;
  hoisted: TensorMap;
  want: Set<ScoreKind>;
}

export interface LoopItem {
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

export interface LoopHooks {
  isCancelled(id: string): boolean;
  onResult(result: ItemResult): void;
  onCancelled(id: string): void;
  onFailed(ids: string[], error: Error): void;
}

export interface LoopBounds {
  /**
   * How long joining images' encoder and cross-attention may hold up the running rows' next
   * step. At least one image joins per step whatever its cost; more while the estimate fits.
   */
  joinBudgetMs: number;
}

interface Image {
  item: LoopItem;
  search: SequenceSearch;
  /** Tokens already in this image's cache (the position of its next token). */
  position: number;
  source: { hoisted: TensorMap; index: number };
  /** Rows of the previous step's cache its rows continue; undefined until its first step. */
  pastRows?: number[];
  encoderMs: number;
  batchImages: number;
  decodeStarted?: number;
}

/**
 * Continuous batching for one inference worker: images join the running rows between decoder
 * steps (their encoder and cross-attention run in the gap, within LoopBounds.joinBudgetMs), and
 * leave as soon as their search is done or they are cancelled. Rows of all images share every
 * step whatever their position: the step graph takes each row's position and masks the cache
 * beyond it (rowsAtOwnPositions), so a row computes exactly what it would alone.
 */
export class DecodeLoop {
  private readonly waiting: LoopItem[] = [];
  private active: Image[] = [];
  private past: ort.Tensor[] = [];
  private readonly layout: HoistedLayout;
  /** Recent encoder + cross-attention milliseconds per image (the join budget's estimate). */
  private joinMsPerImage?: number;

  constructor(
    private readonly model: StepModel,
    private readonly hooks: LoopHooks,
    private readonly bounds: LoopBounds,
  ) {
    this.layout = new HoistedLayout(model.hoistedPerImage);
  }

  get idle(): boolean {
    return this.waiting.length === 0 && this.active.length === 0;
  }

  /** Images decoding now, and waiting to join. */
  get images(): { active: number; waiting: number } {
    return { active: this.active.length, waiting: this.waiting.length };
  }

  add(item: LoopItem): void {
    this.waiting.push(item);
  }

  /** Lets waiting images join (within the budget), then runs one step over every live row. */
  async runOnce(): Promise<void> {
    this.dropCancelled();
    if (this.waiting.length > 0) await this.join(this.takeJoining());
    if (this.active.length === 0) return;
    const step = this.stepInput();
    let out: StepOutput;
    try {
      out = await this.model.decodeStep(step);
    } catch (error) {
      // The rows' shared state is gone with the step: every image in it fails, the loop goes on.
      const ids = this.active.map((image) => image.item.id);
      this.active = [];
      this.past = [];
      this.hooks.onFailed(ids, error as Error);
      return;
    }
    this.advance(out);
  }

  private dropCancelled(): void {
    const keep = (id: string) => {
      if (!this.hooks.isCancelled(id)) return true;
      this.hooks.onCancelled(id);
      return false;
    };
    this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((w) => keep(w.id)));
    this.active = this.active.filter((image) => keep(image.item.id));
  }

  private takeJoining(): LoopItem[] {
    if (this.active.length === 0 || this.joinMsPerImage === undefined) {
      return this.waiting.splice(0);
    }
    const fits = Math.floor(this.bounds.joinBudgetMs / this.joinMsPerImage);
    return this.waiting.splice(0, Math.max(1, fits));
  }

  private async join(items: LoopItem[]): Promise<void> {
    const spec = this.model.spec;
    const plane = 3 * spec.imageSize.width * spec.imageSize.height;
    const pixels = new Float32Array(items.length * plane);
    items.forEach((item, i) => pixels.set(item.pixels, i * plane));
    const started = performance.now();
    let hoisted: TensorMap;
    try {
      hoisted = await this.model.crossAttention(await this.model.encode(pixels, items.length));
    } catch (error) {
      this.hooks.onFailed(
        items.map((item) => item.id),
        error as Error,
      );
      return;
    }
    const encoderMs = performance.now() - started;
    const perImage = encoderMs / items.length;
    this.joinMsPerImage =
      this.joinMsPerImage === undefined ? perImage : 0.7 * this.joinMsPerImage + 0.3 * perImage;
    for (const [index, item] of items.entries()) {
      this.active.push({
        item,
        search: createSequenceSearch(item.options, spec),
        position: 0,
        source: { hoisted, index },
        encoderMs,
        batchImages: items.length,
      });
    }
  }

  private stepInput(): StepInput {
    const inputIds: number[] = [];
    const positions: number[] = [];
    const pastRows: number[] = [];
    const rowSources: RowSource[] = [];
    const imageSources: RowSource[] = [];
    const rows = this.active.reduce((n, image) => n + image.search.rowCount, 0);
    // A fresh cache when no step ran before (or all its rows are gone), else the last step's.
    const fresh = this.active.every((image) => image.pastRows === undefined);
    if (fresh) this.past = this.model.emptyPast(rows);
    for (const image of this.active) {
      const count = image.search.rowCount;
      inputIds.push(...image.search.nextTokens());
      for (let r = 0; r < count; r++) {
        positions.push(image.position);
        rowSources.push(image.source);
      }
      imageSources.push(image.source);
      // A joining image's rows read some existing row of the cache, all of it masked for them.
      if (image.pastRows) pastRows.push(...image.pastRows);
      else for (let r = 0; r < count; r++) pastRows.push(fresh ? pastRows.length : 0);
      image.decodeStarted ??= performance.now();
    }
    return {
      inputIds,
      positions,
      past: this.past,
      pastRows,
      cacheLength: Math.max(...positions),
      hoisted: this.layout.arrange(imageSources, rowSources),
      want: new Set(this.active.map((image) => image.search.scores)),
    };
  }

  private advance(out: StepOutput): void {
    const survivors: Image[] = [];
    let firstRow = 0;
    for (const image of this.active) {
      const sources = image.search.advance(out, firstRow);
      image.position++;
      if (image.search.done) {
        this.hooks.onResult({
          id: image.item.id,
          sequences: image.search.result(),
          encoderMs: image.encoderMs,
          decodingMs: performance.now() - image.decodeStarted!,
          batchImages: image.batchImages,
        });
      } else {
        image.pastRows = sources.map((s) => firstRow + s);
        survivors.push(image);
      }
      firstRow += image.search.rowCount;
    }
    this.active = survivors;
    this.past = survivors.length > 0 ? out.presents : [];
  }
}

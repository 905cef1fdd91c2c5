import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DecodingOptions } from '../engine/caption-engine';

export interface CachedCaption {
  caption: string;
  confidence: number;
  /** Every returned caption, best first. */
  captions: { caption: string; confidence: number }[];
  tokens: number;
  batchImages: number;
  timings: {
    image_decode: number;
    queue_wait: number;
    encoder: number;
    decoding: number;
    total: number;
  };
}

/**
 * Answers repeated requests (same image bytes, same options, same model weights) without the
 * engine. Bounded by CACHE_MAX_ENTRIES, least recently used out first; 0 turns it off.
 */
@Injectable()
export class CaptionCache {
  private readonly entries?: LRUCache<string, CachedCaption>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (config.cache.maxEntries > 0) this.entries = new LRUCache({ max: config.cache.maxEntries });
  }

  /** The entry's key (image bytes, options and weights); undefined when the cache is off. */
  key(image: Buffer, options: DecodingOptions, modelFingerprint: string): string | undefined {
    if (!this.entries) return undefined;
    return createHash('sha256')
      .update(modelFingerprint)
      .update('\0')
      .update(JSON.stringify(options, Object.keys(options).sort()))
      .update('\0')
      .update(image)
      .digest('hex');
  }

  get(key: string): CachedCaption | undefined {
    return this.entries?.get(key);
  }

  set(key: string, value: CachedCaption): void {
    this.entries?.set(key, value);
  }
}

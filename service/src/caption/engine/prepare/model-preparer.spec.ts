import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_MODEL, copyModel } from '../../../../test/support/fixtures';
import { findOrPrepare } from './model-preparer';

describe('findOrPrepare', () => {
  let model: string;
  let cache: string;
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);

  beforeEach(() => {
    model = copyModel(TINY_MODEL);
    cache = mkdtempSync(join(tmpdir(), 'caption-cache-'));
    logs.length = 0;
  });

  afterEach(() => {
    rmSync(model, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  it('prepares beside a writable model once, then reuses the result', async () => {
    const first = await findOrPrepare(model, 'q8', cache, log);
    expect(first.stepPath).toBe(join(model, 'optimized', 'q8', 'decoder_step.onnx'));
    expect(first.manifest.verification.maxAbsLogitDiff).toBeLessThanOrEqual(1e-4);
    expect(logs.some((m) => m.includes('preparing'))).toBe(true);
    logs.length = 0;
    const second = await findOrPrepare(model, 'q8', cache, log);
    expect(logs).toEqual([]);
    expect(second.manifest.fingerprint).toBe(first.manifest.fingerprint);
  });

  it('recognises unchanged sources by hash when their timestamps change', async () => {
    const first = await findOrPrepare(model, 'fp32', cache, log);
    const decoder = join(model, first.manifest.sources.decoder.file);
    const later = new Date(Date.now() + 60_000);
    utimesSync(decoder, later, later);
    logs.length = 0;
    const second = await findOrPrepare(model, 'fp32', cache, log);
    // Same bytes: found again by hash after the quick size/mtime check failed, without preparing.
    expect(second.manifest.fingerprint).toBe(first.manifest.fingerprint);
    expect(logs.some((m) => m.includes('preparing'))).toBe(false);
  });

  it('rejects a model folder without the decoder', async () => {
    rmSync(join(model, 'onnx', 'decoder_model_merged.onnx'));
    await expect(findOrPrepare(model, 'fp32', cache, log)).rejects.toThrow(
      /missing model file .*decoder_model_merged\.onnx/,
    );
    expect(existsSync(join(model, 'optimized', 'fp32', 'manifest.json'))).toBe(false);
    expect(readFileSync(join(model, 'config.json'), 'utf8')).toContain('vision-encoder-decoder');
  });
});

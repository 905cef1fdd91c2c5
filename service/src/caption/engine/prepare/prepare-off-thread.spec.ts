import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_MODEL, copyModel } from '../../../../test/support/fixtures';
import { prepareOffThread } from './prepare-off-thread';

describe('prepareOffThread', () => {
  let model: string;
  let cache: string;

  beforeEach(() => {
    model = copyModel(TINY_MODEL);
    cache = mkdtempSync(join(tmpdir(), 'caption-cache-'));
  });

  afterEach(() => {
    rmSync(model, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  it('prepares on a worker thread, forwarding its logs, then finds the result in place', async () => {
    const logs: string[] = [];
    const request = { modelDir: model, dtype: 'fp32' as const, fallbackCacheDir: cache };
    const first = await prepareOffThread(request, (m) => logs.push(m));
    expect(first.stepPath).toBe(join(model, 'optimized', 'fp32', 'decoder_step.onnx'));
    expect(first.spec.decoderLayers).toBeGreaterThan(0);
    expect(logs.some((m) => m.includes('preparing'))).toBe(true);
    expect(logs.some((m) => m.startsWith('verified'))).toBe(true);
    logs.length = 0;
    const second = await prepareOffThread(request, (m) => logs.push(m));
    expect(logs).toEqual([]);
    expect(second.manifest.fingerprint).toBe(first.manifest.fingerprint);
  });

  it('rejects with the worker’s reason when preparation fails', async () => {
    rmSync(join(model, 'onnx', 'decoder_model_merged.onnx'));
    await expect(
      prepareOffThread({ modelDir: model, dtype: 'fp32', fallbackCacheDir: cache }, () => {}),
    ).rejects.toThrow(/missing model file .*decoder_model_merged\.onnx/);
  });
});

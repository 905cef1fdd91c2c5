import { MachineLimits, bestOf } from './machine-limits';
import { StageResult, againstLimits, limitOf } from './stages';

const limits = (gb: number, int8: number, fp32: number): MachineLimits => ({
  bandwidth: [{ threads: 2, megabytes: 512, gbPerSecond: gb }],
  bandwidthGbPerSecond: gb,
  matmul: [
    { kind: 'int8 u8s8', shape: [1, 1, 1], threads: 2, gmacPerSecond: int8 },
    { kind: 'fp32', shape: [1, 1, 1], threads: 2, gmacPerSecond: fp32 },
  ],
  int8GmacPerSecond: int8,
  fp32GmacPerSecond: fp32,
});

describe('limitOf', () => {
  it('is the slower of streaming the bytes and doing the arithmetic', () => {
    const l = limits(10, 100, 50);
    // 1 GB at 10 GB/s = 100 ms; 1 G int8 MAC at 100 G/s + 1 G fp32 at 50 G/s = 30 ms.
    expect(limitOf({ bytes: 1e9, int8Macs: 1e9, fp32Macs: 1e9 }, l)).toEqual({
      bandwidthMs: 100,
      computeMs: 30,
      limitMs: 100,
    });
    expect(limitOf({ bytes: 1e8, int8Macs: 5e9, fp32Macs: 0 }, l).limitMs).toBe(50);
  });
});

describe('bestOf and againstLimits', () => {
  it('keep the better of two measurements and recompute each stage against them', () => {
    const best = bestOf(limits(4, 120, 30), limits(8, 90, 40));
    expect([best.bandwidthGbPerSecond, best.int8GmacPerSecond, best.fp32GmacPerSecond]).toEqual([
      8, 120, 40,
    ]);
    expect(best.matmul.map((m) => m.gmacPerSecond)).toEqual([120, 40]);
    const stage: StageResult = {
      stage: 's',
      bytes: 8e8,
      int8Macs: 0,
      fp32Macs: 0,
      bandwidthMs: 200,
      computeMs: 0,
      limitMs: 200,
      measuredMs: 150,
    };
    expect(againstLimits([stage], best)[0]).toMatchObject({ limitMs: 100, measuredMs: 150 });
  });
});

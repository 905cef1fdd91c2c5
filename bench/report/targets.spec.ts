import { ModeFidelity } from '../fidelity/fidelity';
import { latencyOf } from '../http/load';
import { StageResult } from '../limits/stages';
import { HttpSystemResult } from '../systems/http-system';
import { BenchResults } from './results';
import { targetLines } from './targets';

function system(
  p50: number,
  at16: number,
  extra: Partial<HttpSystemResult> = {},
): HttpSystemResult {
  return {
    name: 'x',
    detail: '',
    coldStartSeconds: 5,
    peakRssMb: 1000,
    single: { beams4: latencyOf([p50]), greedy: latencyOf([p50 / 2]) },
    closedLoop: [1, 4, 16].map((connections) => ({
      connections,
      seconds: 10,
      completed: 1,
      throughput: connections === 16 ? at16 : 1,
      statuses: {},
      errors: 0,
      timeouts: 0,
    })),
    capacity: at16,
    livenessP99Ms: 10,
    livenessMaxMs: 20,
    openLoop: [],
    notes: [],
    ...extra,
  };
}

const stage = (name: string, limitMs: number): StageResult => ({
  stage: name,
  bytes: 0,
  int8Macs: 0,
  fp32Macs: 0,
  bandwidthMs: limitMs,
  computeMs: 0,
  limitMs,
  measuredMs: limitMs,
});

function results(over: Partial<BenchResults>): BenchResults {
  return {
    date: '',
    quick: false,
    machine: { cpu: '', cpus: 2, cpuBudget: 2, loadStart: 0, loadEnd: 0 },
    transformersJs: [],
    ...over,
  };
}

const verdicts = (r: BenchResults) =>
  Object.fromEntries(
    targetLines(r).map((t) => [t.target.split(' ')[0] + ' ' + t.target.split(' ')[1], t.ok]),
  );

describe('targetLines', () => {
  // A 4-beam caption at the limit: 20 + 10 + 15 x 10 = 180 ms.
  const stages = [
    stage('encoder (1 image)', 20),
    stage('cross-attention K/V (1 image)', 10),
    stage('decoder step, 1 row (1x1)', 5),
    stage('decoder step, 4 rows (1x4)', 10),
  ];

  it('marks each target from the figures, just past each threshold either way', () => {
    const seed = system(1.21, 1.0, { peakRssMb: 1400, coldStartSeconds: 10 });
    const met = targetLines(results({ seed, ours: system(0.2, 12, { peakRssMb: 979 }), stages }));
    expect(met.slice(0, 7).map((t) => t.ok)).toEqual([
      true,
      true,
      undefined,
      true,
      undefined,
      true,
      true,
    ]);
    const missed = targetLines(
      results({ seed, ours: system(0.37, 11.9, { peakRssMb: 981, coldStartSeconds: 11 }), stages }),
    );
    expect(missed.slice(0, 7).map((t) => t.ok)).toEqual([
      false,
      false,
      undefined,
      false,
      undefined,
      false,
      false,
    ]);
  });

  it('says NOT MEASURED for what the run did not measure', () => {
    expect(
      targetLines(results({ ours: system(0.2, 12) }))
        .slice(0, 7)
        .map((t) => t.ok),
    ).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('says NOT MEASURED when an open-loop phase completed no caption', () => {
    const ours = system(0.2, 12, {
      openLoop: [{ fraction: 0.8, result: { latency: latencyOf([]) } as never }],
    });
    expect(targetLines(results({ ours }))[4].ok).toBeUndefined();
  });

  it('compares greedy with transformers.js q8 and open-loop p95 with single-stream p50', () => {
    const ours = system(0.2, 12, {
      openLoop: [{ fraction: 0.8, result: { latency: latencyOf([0.51]) } as never }],
    });
    const tjs = {
      name: 't',
      dtype: 'q8' as const,
      coldStartSeconds: 1,
      peakRssMb: 1,
      greedy: latencyOf([0.31]),
    };
    const lines = targetLines(results({ ours, transformersJs: [tjs] }));
    expect(lines[2].ok).toBe(true); // 0.31 / 0.1 = 3.1x
    expect(lines[4].ok).toBe(false); // 0.51 > 2.5 x 0.2
  });

  it('holds the default mode to exactness or to the stock q8 agreement', () => {
    const mode = (name: string, same: number, flags: Partial<ModeFidelity>): ModeFidelity =>
      ({
        mode: name,
        total: { same, of: 24 },
        exact: false,
        stockQ8: false,
        ...flags,
      }) as ModeFidelity;
    const fidelity = [
      mode('fp32', 24, { exact: true }),
      mode('q8', 20, { stockQ8: true }),
      mode('fast', 19, {}),
    ];
    const line = (defaultMode: string) =>
      targetLines(results({ fidelity, defaultMode })).find((t) =>
        t.target.startsWith('fidelity: default'),
      )!.ok;
    expect(line('fp32')).toBe(true);
    expect(line('q8')).toBe(true);
    expect(line('fast')).toBe(false);
    expect(verdicts(results({ fidelity, defaultMode: 'fp32' }))['fidelity: fp32']).toBe(true);
  });
});

/** Issue 13's targets, each computed from this run's figures and marked met or not. */
import { BenchResults, captionFromStages } from './results';
import { renderTable, verdict } from './table';

interface TargetLine {
  target: string;
  figure: string;
  ok: boolean | undefined;
}

const x = (v: number) => `${v.toFixed(2)}x`;

export function targetLines(r: BenchResults): TargetLine[] {
  const { seed, ours, stages, fidelity } = r;
  const tjsQ8 = r.transformersJs.find((t) => t.dtype === 'q8');
  const lines: TargetLine[] = [];
  const both = seed && ours;

  const speedup = both ? seed.single.beams4.p50 / ours.single.beams4.p50 : undefined;
  lines.push({
    target: 'single-stream 4 beams >= 6x faster than the seed (p50)',
    figure: speedup === undefined ? '-' : x(speedup),
    ok: speedup === undefined ? undefined : speedup >= 6,
  });
  const limit = stages ? captionFromStages(stages, 4).limitMs / 1000 : undefined;
  lines.push({
    target: 'single-stream 4 beams within 2x of the limit',
    figure:
      ours && limit !== undefined
        ? `${ours.single.beams4.p50.toFixed(3)} s vs limit ${limit.toFixed(3)} s = ${x(ours.single.beams4.p50 / limit)}`
        : '-',
    ok: ours && limit !== undefined ? ours.single.beams4.p50 <= 2 * limit : undefined,
  });
  const greedy = ours && tjsQ8 ? tjsQ8.greedy.p50 / ours.single.greedy.p50 : undefined;
  lines.push({
    target: 'greedy >= 3x faster than transformers.js q8 (p50)',
    figure: greedy === undefined ? '-' : x(greedy),
    ok: greedy === undefined ? undefined : greedy >= 3,
  });
  const at16 = (s: NonNullable<typeof seed>) => s.closedLoop[s.closedLoop.length - 1].throughput;
  const throughput = both ? at16(ours) / at16(seed) : undefined;
  lines.push({
    target: 'throughput at 16 clients, 4 beams >= 12x the seed',
    figure: throughput === undefined ? '-' : x(throughput),
    ok: throughput === undefined ? undefined : throughput >= 12,
  });
  // NaN when no caption completed in that phase: not measured, rather than missed.
  const p95At80 = (s: NonNullable<typeof seed>) => {
    const p95 = s.openLoop.find((o) => o.fraction === 0.8)?.result.latency.p95;
    return p95 === undefined || Number.isNaN(p95) ? undefined : p95;
  };
  const ourP95 = ours ? p95At80(ours) : undefined;
  const seedP95 = seed ? p95At80(seed) : undefined;
  lines.push({
    target: 'open loop at 80% of our capacity: p95 <= 2.5x our single-stream p50',
    figure:
      ours && ourP95 !== undefined
        ? `ours ${ourP95.toFixed(2)} s = ${x(ourP95 / ours.single.beams4.p50)} its p50` +
          (seed && seedP95 !== undefined
            ? `; seed at 80% of its own: ${seedP95.toFixed(2)} s = ${x(seedP95 / seed.single.beams4.p50)}`
            : '')
        : '-',
    ok: ours && ourP95 !== undefined ? ourP95 <= 2.5 * ours.single.beams4.p50 : undefined,
  });
  lines.push({
    target: 'peak RSS <= 0.7x the seed',
    figure: both
      ? `${ours.peakRssMb.toFixed(0)} MB vs ${seed.peakRssMb.toFixed(0)} MB = ${x(ours.peakRssMb / seed.peakRssMb)}`
      : '-',
    ok: both ? ours.peakRssMb <= 0.7 * seed.peakRssMb : undefined,
  });
  lines.push({
    target: 'cold start no slower than the seed',
    figure: both
      ? `${ours.coldStartSeconds.toFixed(1)} s vs ${seed.coldStartSeconds.toFixed(1)} s`
      : '-',
    ok: both ? ours.coldStartSeconds <= seed.coldStartSeconds : undefined,
  });
  const def = fidelity?.find((f) => f.mode === r.defaultMode);
  const stock = fidelity?.find((f) => f.stockQ8);
  lines.push({
    target: "fidelity: default mode exact, or token agreement >= the stock q8 graph's",
    figure: def
      ? `default ${def.mode}: ${def.total.same}/${def.total.of} token-identical` +
        (stock ? `; stock q8 (${stock.mode}): ${stock.total.same}/${stock.total.of}` : '')
      : fidelity
        ? 'no mode matches the service defaults'
        : '-',
    ok: def
      ? (def.exact && def.total.same === def.total.of) ||
        (stock !== undefined && def.total.same >= stock.total.same)
      : undefined,
  });
  for (const f of fidelity ?? []) {
    if (!f.exact) continue;
    lines.push({
      target: `fidelity: ${f.mode} stays exact (token ids equal to PyTorch)`,
      figure: `${f.total.same}/${f.total.of}`,
      ok: f.total.same === f.total.of,
    });
  }
  if (ours) {
    lines.push({
      target: '/health/live p99 < 50 ms at 16 clients',
      figure: `${ours.livenessP99Ms.toFixed(1)} ms`,
      ok: ours.livenessP99Ms < 50,
    });
  }
  if (ours?.overload) {
    const s = ours.overload.statuses;
    const answered = ['200', '429', '503', '504'].reduce((n, code) => n + (s[code] ?? 0), 0);
    const lost = ours.overload.sent - answered;
    lines.push({
      target: 'no request lost under 4x overload (each answered 200/429/503/504)',
      figure: `${lost} lost of ${ours.overload.sent}`,
      ok: lost === 0,
    });
  }
  return lines;
}

export function targetsSection(r: BenchResults): string {
  return [
    'Targets (issue 13):',
    renderTable(targetLines(r).map((t) => [t.target, t.figure, verdict(t.ok)])),
  ].join('\n');
}

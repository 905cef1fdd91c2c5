/** The printed report's sections, each from the results of one run. */
import { NEW_TOKENS } from '../settings';
import { HttpSystemResult } from '../systems/http-system';
import { TransformersJsResult } from '../systems/transformers-js';
import { BenchResults, captionFromStages } from './results';
import { fixed, ratio, renderTable } from './table';

export function machineSection(r: BenchResults): string {
  const m = r.machine;
  const busy = Math.max(m.loadStart, m.loadEnd) > m.cpus;
  return [
    `Machine: ${m.cpu}, ${m.cpus} CPUs (service budget ${m.cpuBudget}); 1-min load average ` +
      `${m.loadStart.toFixed(1)} at start, ${m.loadEnd.toFixed(1)} at end` +
      (busy ? ' -- BUSY: other processes shared the CPUs, figures are indicative only' : ''),
    r.quick ? 'BENCH_QUICK=1: short runs, a check of the bench itself, not figures to quote' : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function limitsSection(r: BenchResults): string {
  if (!r.limits || !r.stages) return '';
  const l = r.limits;
  const lines = [
    'Machine limits (measured at the start and again after the peers; the better of the two):',
    ...l.bandwidth.map(
      (b) =>
        `  memory bandwidth, STREAM-style copy of 2 x ${b.megabytes} MB, ${b.threads} thread${b.threads > 1 ? 's' : ''}: ` +
        `${b.gbPerSecond.toFixed(1)} GB/s (bytes read + written)`,
    ),
    ...l.matmul.map(
      (m) =>
        `  ${m.kind} matmul ${m.shape.join('x')} (ONNX Runtime ${m.kind === 'fp32' ? 'MatMul' : 'MatMulInteger'}, ` +
        `graph built in memory, ${m.threads} threads): ${m.gmacPerSecond.toFixed(1)} GMAC/s`,
    ),
    `  stage limit = max(bytes / ${l.bandwidthGbPerSecond.toFixed(1)} GB/s, int8 MACs / ` +
      `${l.int8GmacPerSecond.toFixed(1)} + fp32 MACs / ${l.fp32GmacPerSecond.toFixed(1)} GMAC/s)`,
    '',
  ];
  const rows = [
    [
      'stage',
      'MB read',
      'int8 GMAC',
      'fp32 GMAC',
      'at bw ms',
      'at compute ms',
      'limit ms',
      'measured ms',
      'measured/limit',
    ],
    ...r.stages.map((s) => [
      s.stage,
      fixed(s.bytes / 1e6, 1),
      fixed(s.int8Macs / 1e9, 2),
      fixed(s.fp32Macs / 1e9, 2),
      fixed(s.bandwidthMs, 1),
      fixed(s.computeMs, 1),
      fixed(s.limitMs, 1),
      fixed(s.measuredMs, 1),
      ratio(s.measuredMs / s.limitMs),
    ]),
  ];
  for (const beams of [4, 1] as const) {
    const c = captionFromStages(r.stages, beams);
    rows.push([
      `caption, ${beams === 4 ? '4 beams' : 'greedy'} (enc + K/V + ${NEW_TOKENS} steps)`,
      '',
      '',
      '',
      '',
      '',
      fixed(c.limitMs, 1),
      fixed(c.measuredMs, 1),
      ratio(c.measuredMs / c.limitMs),
    ]);
  }
  return [
    ...lines,
    renderTable(rows),
    'MB read: weights (embedding tables only gathered from excluded), cross-attention keys/values per image, self-attention cache per row.',
    'MACs: weight products read from the prepared graphs; attention products from the model dimensions.',
  ].join('\n');
}

type Column = { name: string; get: (which: Row) => number | undefined; digits: number };
type Row = HttpSystemResult | TransformersJsResult;

function isHttp(s: Row): s is HttpSystemResult {
  return 'closedLoop' in s;
}

export function peersSection(r: BenchResults): string {
  const systems: Row[] = [
    ...(r.seed ? [r.seed] : []),
    ...r.transformersJs,
    ...(r.ours ? [r.ours] : []),
  ];
  if (systems.length === 0) return '';
  const http = (f: (s: HttpSystemResult) => number | undefined) => (s: Row) =>
    isHttp(s) ? f(s) : undefined;
  const open = (fraction: number, p: 'p50' | 'p95' | 'p99') =>
    http((s) => s.openLoop.find((o) => o.fraction === fraction)?.result.latency[p]);
  const rows: Column[] = [
    {
      name: 'latency p50, 4 beams (s)',
      get: (s) => (isHttp(s) ? s.single.beams4.p50 : s.beams4?.p50),
      digits: 3,
    },
    {
      name: 'latency p95, 4 beams (s)',
      get: (s) => (isHttp(s) ? s.single.beams4.p95 : s.beams4?.p95),
      digits: 3,
    },
    {
      name: 'latency p50, greedy (s)',
      get: (s) => (isHttp(s) ? s.single.greedy.p50 : s.greedy.p50),
      digits: 3,
    },
    {
      name: 'latency p95, greedy (s)',
      get: (s) => (isHttp(s) ? s.single.greedy.p95 : s.greedy.p95),
      digits: 3,
    },
    ...[0, 1, 2].map((i) => ({
      name: `throughput, ${[1, 4, 16][i]} client${i ? 's' : ''}, 4 beams (/s)`,
      get: http((s) => s.closedLoop[i]?.throughput),
      digits: 2,
    })),
    ...[0.5, 0.8].flatMap((f) =>
      (['p50', 'p95', 'p99'] as const).map((p) => ({
        name: `open loop ${f * 100}% of capacity, ${p} (s)`,
        get: open(f, p),
        digits: 2,
      })),
    ),
    { name: 'peak RSS (MB)', get: (s) => s.peakRssMb, digits: 0 },
    { name: 'cold start to ready (s)', get: (s) => s.coldStartSeconds, digits: 1 },
    { name: 'liveness p99 at 16 clients (ms)', get: http((s) => s.livenessP99Ms), digits: 1 },
    { name: 'liveness max at 16 clients (ms)', get: http((s) => s.livenessMaxMs), digits: 1 },
  ];
  const header = ['', ...systems.map((s) => s.name)];
  const tjsQ8 = r.transformersJs.find((t) => t.dtype === 'q8');
  if (r.ours && r.seed) header.push('ours vs seed');
  if (r.ours && tjsQ8) header.push('ours vs transformers.js q8');
  const better = (name: string) => (name.startsWith('throughput') ? 'higher' : 'lower');
  const compare = (mine: number | undefined, theirs: number | undefined, name: string) => {
    if (mine === undefined || theirs === undefined) return '-';
    if (!(mine > 0 && theirs > 0) || !Number.isFinite(mine) || !Number.isFinite(theirs)) return '-';
    if (name.startsWith('peak RSS')) return `${(mine / theirs).toFixed(2)}x`;
    const gain = better(name) === 'higher' ? mine / theirs : theirs / mine;
    const [up, down] = better(name) === 'higher' ? ['more', 'less'] : ['faster', 'slower'];
    return gain >= 1 ? `${gain.toFixed(2)}x ${up}` : `${(1 / gain).toFixed(2)}x ${down}`;
  };
  const table = [header];
  for (const row of rows) {
    const line = [row.name, ...systems.map((s) => fixed(row.get(s), row.digits))];
    if (r.ours && r.seed) line.push(compare(row.get(r.ours), row.get(r.seed), row.name));
    if (r.ours && tjsQ8) line.push(compare(row.get(r.ours), row.get(tjsQ8), row.name));
    table.push(line);
  }
  const notes = [
    ...systems
      .filter(isHttp)
      .map((s) => `${s.name}: ${s.detail}; capacity ${s.capacity.toFixed(2)}/s`),
    ...(r.transformersJs.length
      ? [
          'transformers.js: a library, not a server; its cold start is from importing it to the pipeline loaded',
        ]
      : []),
    ...r.transformersJs
      .filter((t) => t.beams4SameAsGreedy)
      .map(
        (t) =>
          `${t.name}: num_beams 4 gave the greedy caption on ${t.beams4SameAsGreedy!.same}/${t.beams4SameAsGreedy!.of} images ` +
          '(transformers.js 4.3.1 keeps only the top token per step: it decodes greedily whatever num_beams says)',
      ),
    ...(r.ours?.overload
      ? [
          `${r.ours.name}: 4x overload, ${r.ours.overload.sent} requests at ${r.ours.overload.offeredRate.toFixed(1)}/s -> ` +
            `statuses ${JSON.stringify(r.ours.overload.statuses)}, socket errors ${r.ours.overload.socketErrors}, ` +
            `all answered in ${r.ours.overload.answeredWithin.toFixed(0)} s`,
        ]
      : []),
    ...(r.equivalence
      ? [
          'graph split equivalence on the full-size model (max |logit diff| over 16 steps): ' +
            Object.entries(r.equivalence)
              .map(([d, v]) => `${d} ${v.toExponential(2)}`)
              .join(', '),
        ]
      : []),
  ];
  return `${renderTable(table)}\n\n${notes.join('\n')}`;
}

export function fidelitySection(r: BenchResults): string {
  if (!r.fidelity) return '';
  const rows = [
    [
      'mode',
      'dtype',
      'greedy same',
      '4 beams same',
      'total same',
      'max |dlogit|',
      'mean |dlogit|',
      'graphs = engine',
    ],
    ...r.fidelity.map((f) => [
      `${f.mode}${f.mode === r.defaultMode ? ' (default)' : ''}`,
      f.dtype,
      `${f.identical.greedy?.same ?? '-'}/${f.identical.greedy?.of ?? '-'}`,
      `${f.identical['4 beams']?.same ?? '-'}/${f.identical['4 beams']?.of ?? '-'}`,
      `${f.total.same}/${f.total.of}`,
      f.maxAbs.toExponential(2),
      f.meanAbs.toExponential(2),
      `${f.graphsMatchEngine.same}/${f.graphsMatchEngine.of}`,
    ]),
  ];
  const perStep = r.fidelity.map(
    (f) =>
      `  ${f.mode}: max ${f.perStepMax.map((v) => v.toExponential(1)).join(' ')}\n` +
      `  ${' '.repeat(f.mode.length)}  mean ${f.perStepMean.map((v) => v.toExponential(1)).join(' ')}`,
  );
  return [
    'Fidelity against PyTorch fp32 generate (same weights and pixels; token-identical captions, ' +
      "|logit difference| along PyTorch's sequence):",
    renderTable(rows),
    '|logit difference| per step 1..15 (over seeds, photos, greedy and 4 beams):',
    ...perStep,
  ].join('\n');
}

export function apiSection(r: BenchResults): string {
  if (!r.api) return '';
  const one = r.api.returnSequences[0];
  const rows = [
    ['API cost (ours, defaults, 4 beams)', 'p50 s', 'p95 s', 'vs 1 caption'],
    ...r.api.returnSequences.map((s) => [
      `num_return_sequences=${s.count}`,
      fixed(s.latency.p50, 3),
      fixed(s.latency.p95, 3),
      ratio(s.latency.p50 / one.latency.p50),
    ]),
  ];
  const batch = [
    ['16 images (median of ' + String(r.api.rounds) + ')', 'wall s', 'images/s', 'vs batch'],
    [
      'POST /captions, 16 files',
      fixed(r.api.batchOf16, 2),
      fixed(16 / r.api.batchOf16, 2),
      '1.00x',
    ],
    [
      '16 POST /caption at once',
      fixed(r.api.singlesConcurrent, 2),
      fixed(16 / r.api.singlesConcurrent, 2),
      ratio(r.api.singlesConcurrent / r.api.batchOf16),
    ],
    [
      '16 POST /caption in turn',
      fixed(r.api.singlesSequential, 2),
      fixed(16 / r.api.singlesSequential, 2),
      ratio(r.api.singlesSequential / r.api.batchOf16),
    ],
  ];
  return [
    renderTable(rows),
    '(the same 4-beam search either way; 4 captions keeps 4 finished hypotheses and maps them)',
    '',
    renderTable(batch),
  ].join('\n');
}

/** The stress run's figures, and issue 9's targets computed from them. */
import { percentile } from '../http/load';
import { renderTable, verdict } from '../report/table';
import { PodSettings } from './pod-settings';
import { Outcome } from './stress-client';

/** Answers the issue allows under stress; anything else, or no answer, misses the target. */
const ALLOWED = new Set([200, 408, 413, 429, 503]);

export interface ServiceSettings {
  /** Every variable the service declares, as it parses the pod's environment (defaults included). */
  all: Record<string, unknown>;
  requestTimeoutMs: number;
  /** The upload body timeout, when the service has such a setting. */
  bodyTimeout?: { variable: string; ms: number };
}

/**
 * The settings come from the service's own parser, so a setting it adds shows up here without
 * a change to the bench. The body timeout is whichever declared variable names a body or upload
 * timeout; a service without one is reported as such.
 */
export function serviceSettings(parsed: object): ServiceSettings {
  const all = { ...(parsed as Record<string, unknown>) };
  const body = Object.keys(all).find(
    (k) => /(BODY|UPLOAD)\w*TIMEOUT\w*_MS$/.test(k) && typeof all[k] === 'number',
  );
  return {
    all,
    requestTimeoutMs: Number(all.REQUEST_TIMEOUT_MS),
    ...(body ? { bodyTimeout: { variable: body, ms: all[body] as number } } : {}),
  };
}

export interface StressResult {
  plan: Record<string, number>;
  pod: PodSettings;
  settings: ServiceSettings;
  cage: { kind: string; limitBytes: number; reason?: string };
  /** MEMORY_BUDGET_BYTES as the service derives it from its own cgroup, when not set. */
  budgetSeenByService: string;
  /** The allocator the service ran with. */
  allocator: string;
  idleRssMb: number;
  idleSmallSeconds: number[];
  peakRssMb: number;
  afterRssMb: number;
  outcomes: Outcome[];
  livenessMs: number[];
  /** The service's own longest event-loop delay during the burst (its /metrics), if read. */
  eventLoopMaxMs?: number;
  burstSeconds: number;
  alive: boolean;
  afterCaption?: Outcome;
  /** How the service ended during the run, seconds after the burst began. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; after: number };
  cgroupPeakBytes?: number;
  oomKills?: number;
}

/** "3x 408 after <= 10.2 s, 1x ECONNRESET after <= 2.8 s" */
function endings(outcomes: Outcome[]): string {
  const by = new Map<string, number[]>();
  for (const o of outcomes) {
    const key = String(o.status ?? o.failure);
    by.set(key, [...(by.get(key) ?? []), o.seconds]);
  }
  return [...by]
    .map(([k, secs]) => `${secs.length}x ${k} after <= ${Math.max(...secs).toFixed(1)} s`)
    .join(', ');
}

const s = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} s` : 'never');

function groupTable(outcomes: Outcome[]): string {
  const groups = [...new Set(outcomes.map((o) => o.group))];
  const rows = [['request', 'sent', 'answers', 'no answer', 'problem+json', 'max send->answer']];
  for (const g of groups) {
    const mine = outcomes.filter((o) => o.group === g);
    const statuses: Record<string, number> = {};
    for (const o of mine) {
      const key = o.status === undefined ? 'none' : `${o.status}${o.code ? ` ${o.code}` : ''}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const errors = mine.filter((o) => o.status !== undefined && o.status !== 200);
    const failures: Record<string, number> = {};
    for (const o of mine.filter((o) => o.failure)) {
      failures[o.failure!] = (failures[o.failure!] ?? 0) + 1;
    }
    rows.push([
      g,
      String(mine.length),
      Object.entries(statuses)
        .filter(([k]) => k !== 'none')
        .map(([k, n]) => `${n}x ${k}`)
        .join(', ') || '-',
      Object.entries(failures)
        .map(([k, n]) => `${n}x ${k}`)
        .join(', ') || '0',
      errors.length ? `${errors.filter((o) => o.problemJson).length}/${errors.length}` : '-',
      s(Math.max(...mine.filter((o) => o.status !== undefined).map((o) => o.seconds))),
    ]);
  }
  return renderTable(rows);
}

export function stressReport(r: StressResult): string {
  const deadline = r.settings.requestTimeoutMs / 1000 + 2;
  const answered = r.outcomes.filter((o) => o.status !== undefined);
  const unanswered = r.outcomes.filter((o) => o.status === undefined);
  const resets = unanswered.filter((o) => /ECONNRESET|EPIPE|socket hang up/.test(o.failure ?? ''));
  const badStatus = answered.filter((o) => !ALLOWED.has(o.status!));
  const notProblem = answered.filter((o) => o.status !== 200 && !o.problemJson);
  const longest = Math.max(
    ...r.outcomes.map((o) => (o.status === undefined ? Infinity : o.seconds)),
  );
  const slow = r.outcomes.filter((o) => o.pace === 'one-byte-per-second');
  const livenessMax = Math.max(...r.livenessMs);
  const oom = (r.oomKills ?? 0) > 0 || r.exit?.signal === 'SIGKILL';
  const body = r.settings.bodyTimeout;
  const slowCut =
    body === undefined
      ? undefined
      : slow.every((o) => o.status === 408 && o.problemJson && o.seconds <= body.ms / 1000 + 1);
  const limitGiB = r.pod.memoryLimitBytes / 2 ** 30;
  const targets: [string, string, boolean | undefined][] = [
    [
      `peak RSS under the burst < ${limitGiB} GiB (the pod limit)`,
      `${r.peakRssMb.toFixed(0)} MB` + (oom ? ' -- OOM KILLED' : ''),
      !oom && r.peakRssMb < r.pod.memoryLimitBytes / 2 ** 20,
    ],
    [
      'RSS back within 1.5x idle after the burst',
      r.alive
        ? `${r.afterRssMb.toFixed(0)} MB vs idle ${r.idleRssMb.toFixed(0)} MB`
        : 'service gone',
      r.alive ? r.afterRssMb <= 1.5 * r.idleRssMb : false,
    ],
    [
      'every answer 200/408/413/429/503',
      `${answered.length} answered` +
        (badStatus.length
          ? `, ${badStatus.length} with others: ${[...new Set(badStatus.map((o) => `${o.status} ${o.code ?? ''}`))].join(', ')}`
          : ', none with another status'),
      answered.length === 0 ? undefined : badStatus.length === 0,
    ],
    [
      'every error problem+json',
      `${answered.length - answered.filter((o) => o.status === 200).length} errors, ${notProblem.length} not problem+json`,
      answered.length === 0 ? undefined : notProblem.length === 0,
    ],
    [
      'no connection reset, every request answered (no accepted caption lost)',
      `${resets.length} resets, ${unanswered.length} unanswered`,
      unanswered.length === 0,
    ],
    [
      '/health/live slowest answer < 50 ms during the burst',
      Number.isFinite(livenessMax) ? `${livenessMax.toFixed(1)} ms` : 'no answer',
      livenessMax < 50,
    ],
    [
      `every request answered within REQUEST_TIMEOUT_MS + 2 s (${deadline} s) of being sent`,
      `longest ${s(longest)}`,
      longest <= deadline,
    ],
    [
      '1 byte/s upload cut within the body timeout with 408 problem+json',
      body
        ? `${body.variable}=${body.ms} ms; ${endings(slow)}`
        : `no body timeout setting in the service (not available); ${endings(slow)}`,
      slowCut,
    ],
    [
      'service still captions after the burst',
      r.afterCaption
        ? `${r.afterCaption.status ?? r.afterCaption.failure} in ${r.afterCaption.seconds.toFixed(2)} s`
        : 'service gone',
      r.afterCaption?.status === 200,
    ],
  ];
  const smalls = r.outcomes.filter((o) => o.group === 'small normal caption');
  const imposed =
    r.cage.limitBytes === r.pod.memoryLimitBytes
      ? ''
      : ` (set by BENCH_STRESS_MEMORY_LIMIT; the pod's is ${limitGiB} GiB)`;
  const cage =
    r.cage.kind === 'none'
      ? `memory limit NOT imposed (${r.cage.reason}): an OOM kill cannot happen here, read peak RSS against the limit`
      : `memory limit ${(r.cage.limitBytes / 2 ** 30).toFixed(1)} GiB${imposed} imposed with a ${r.cage.kind}; cgroup peak ${((r.cgroupPeakBytes ?? NaN) / 2 ** 20).toFixed(0)} MB ` +
        `(page cache included), OOM kills ${r.oomKills ?? '?'}; memory budget the service derives from its cgroup: ${r.budgetSeenByService}; allocator ${r.allocator}`;
  const declared = Object.entries(r.settings.all)
    .filter(([k]) => !/DIR|HUB_URL|HOST|PORT|MODEL_ID/.test(k))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return [
    "Stress benchmark (issue 9), full-size random model, the pod's settings from the Deployment:",
    `  CPU limit ${r.pod.cpuLimit}, ${cage}`,
    `  service settings as it parses the pod's environment: ${declared}`,
    `  burst: ${JSON.stringify(r.plan)}; everything answered or cut in ${r.burstSeconds.toFixed(1)} s` +
      (r.exit
        ? `; the service DIED ${r.exit.after.toFixed(1)} s into the burst (code ${r.exit.code}, signal ${r.exit.signal}` +
          `${oom ? ', OOM kill' : ''})`
        : ''),
    `  RSS: idle ${r.idleRssMb.toFixed(0)} MB, peak ${r.peakRssMb.toFixed(0)} MB, after the burst ${r.alive ? r.afterRssMb.toFixed(0) : '-'} MB`,
    `  small caption: idle p50 ${s(percentile(r.idleSmallSeconds, 50))}; during the burst ${smalls.length} sent, ` +
      `p50 ${s(
        percentile(
          smalls.filter((o) => o.status === 200).map((o) => o.seconds),
          50,
        ),
      )}, ` +
      `max ${s(Math.max(...smalls.map((o) => (o.status === undefined ? Infinity : o.seconds))))}`,
    `  /health/live during the burst (probed from a thread of its own): ${r.livenessMs.length} probes, p99 ${percentile(r.livenessMs, 99).toFixed(1)} ms, max ${livenessMax.toFixed(1)} ms; the service's longest event-loop delay ${r.eventLoopMaxMs === undefined ? 'not read' : `${r.eventLoopMaxMs.toFixed(1)} ms`}`,
    '',
    groupTable(r.outcomes),
    '',
    'Targets (issue 9):',
    renderTable(targets.map(([t, f, ok]) => [t, f, verdict(ok)])),
    'Throughput and latency "no worse than today": see npm run bench (same build, same model).',
  ].join('\n');
}

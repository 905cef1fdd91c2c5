import { Outcome } from './stress-client';
import { StressResult, serviceSettings, stressReport } from './stress-report';

describe('serviceSettings', () => {
  it('takes the body timeout from whichever variable the service declares for it', () => {
    const s = serviceSettings({
      REQUEST_TIMEOUT_MS: 20000,
      UPLOAD_BODY_TIMEOUT_MS: 15000,
      PORT: 1,
    });
    expect(s.requestTimeoutMs).toBe(20000);
    expect(s.bodyTimeout).toEqual({ variable: 'UPLOAD_BODY_TIMEOUT_MS', ms: 15000 });
  });

  it('reports no body timeout when the service has none (headers and request timeouts are not it)', () => {
    const s = serviceSettings({ REQUEST_TIMEOUT_MS: 20000, HEADERS_TIMEOUT_MS: 10000 });
    expect(s.bodyTimeout).toBeUndefined();
  });
});

const outcome = (over: Partial<Outcome>): Outcome => ({
  group: 'burst',
  pace: 'whole',
  sentAt: 0,
  seconds: 1,
  problemJson: false,
  bytesSent: 1,
  ...over,
});

function result(outcomes: Outcome[], over: Partial<StressResult> = {}): StressResult {
  return {
    plan: {},
    pod: { environment: {}, cpuLimit: 2, memoryLimitBytes: 2 * 2 ** 30 },
    settings: serviceSettings({ REQUEST_TIMEOUT_MS: 20000, BODY_TIMEOUT_MS: 10000 }),
    cage: { kind: 'cgroup v1', limitBytes: 2 * 2 ** 30 },
    budgetSeenByService: '2.00 GiB',
    allocator: 'jemalloc',
    idleRssMb: 1000,
    idleSmallSeconds: [0.3],
    peakRssMb: 1800,
    afterRssMb: 1400,
    outcomes,
    livenessMs: [3, 4, 20],
    burstSeconds: 30,
    alive: true,
    afterCaption: outcome({ status: 200 }),
    ...over,
  };
}

const verdictOf = (report: string, start: string) =>
  report
    .split('\n')
    .find((l) => l.startsWith(start))
    ?.trim()
    .split(/\s{2,}/)
    .pop();

describe('stressReport', () => {
  const good = [
    outcome({ status: 200, seconds: 12 }),
    outcome({ status: 429, code: 'queue_full', problemJson: true, seconds: 0.1 }),
    outcome({
      pace: 'one-byte-per-second',
      group: 'slow',
      status: 408,
      problemJson: true,
      seconds: 10.4,
    }),
  ];

  it('meets every target on a clean run', () => {
    const report = stressReport(result(good));
    for (const line of [
      'peak RSS',
      'RSS back',
      'every answer',
      'every error',
      'no connection',
      '/health/live',
      'every request',
      '1 byte/s',
      'service still',
    ]) {
      expect([line, verdictOf(report, line)]).toEqual([line, 'MET']);
    }
  });

  it('misses on an OOM kill, a reset, a late answer, a 504, a slow liveness and an uncut slow upload', () => {
    const bad = [
      outcome({ status: 504, code: 'request_timeout', problemJson: true, seconds: 25 }),
      outcome({ failure: 'ECONNRESET', seconds: 3 }),
      outcome({ pace: 'one-byte-per-second', group: 'slow', failure: 'ECONNRESET', seconds: 3 }),
    ];
    const report = stressReport(
      result(bad, { oomKills: 1, alive: false, afterCaption: undefined, livenessMs: [3, 900] }),
    );
    for (const line of [
      'peak RSS',
      'RSS back',
      'every answer',
      'no connection',
      '/health/live',
      'every request',
      '1 byte/s',
      'service still',
    ]) {
      expect([line, verdictOf(report, line)]).toEqual([line, 'NOT MET']);
    }
    expect(report).toContain('OOM');
  });
});

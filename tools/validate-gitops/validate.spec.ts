import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers.spec-util';
import {
  checkQuantileThresholdsOnBuckets,
  checkQueriedMetricsExist,
  exposedMetrics,
  queriedMetrics,
  quantileThresholds,
} from './promql';
import { findUnknownFields } from './schema';
import { validateGitops } from './validate';

const FIXTURE = path.join(__dirname, 'fixtures', 'contract-metrics.prom');

describe('the real gitops tree', () => {
  it('passes every check', async () => {
    const { outcomes, ok } = await validateGitops({ root: REPO_ROOT });
    const failures = outcomes
      .filter((o) => o.problems.length)
      .map((o) => `${o.id}: ${o.problems.join('\n')}`);
    expect(failures).toEqual([]);
    expect(ok).toBe(true);
    expect(outcomes.length).toBeGreaterThanOrEqual(15);
  });

  it('renders both overlays and every app folder', async () => {
    const { context } = await validateGitops({ root: REPO_ROOT, only: ['kustomize-build'] });
    const dirs = context.folders.map((f) => f.dir);
    expect(dirs).toEqual(
      expect.arrayContaining([
        'gitops/apps',
        'gitops/apps/caption-service/overlays/staging',
        'gitops/apps/caption-service/overlays/production',
        'gitops/ingress',
        'gitops/monitoring',
        'gitops/bootstrap',
      ]),
    );
    expect(context.deployables.map((d) => d.dir).sort()).toEqual([
      'gitops/apps/caption-service/overlays/production',
      'gitops/apps/caption-service/overlays/staging',
      'gitops/cert-manager/issuers',
      'gitops/ci-agents/namespace',
    ]);
  });
});

describe('npm run validate:gitops (CLI)', () => {
  const cli = (args: string[]) =>
    spawnSync(
      process.execPath,
      [
        require.resolve('ts-node/dist/bin'),
        '--transpile-only',
        path.join(__dirname, 'validate.ts'),
        ...args,
      ],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );

  it('checks the dashboard and alerts against a /metrics dump given with --metrics-file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'metrics-'));
    try {
      const good = path.join(dir, 'good.prom');
      writeFileSync(good, readFileSync(FIXTURE, 'utf8'));
      const ok = cli(['--metrics-file', good, '--only', 'queried-metrics']);
      expect(ok.stdout).toContain('ok   queried-metrics');
      expect(ok.status).toBe(0);

      // A service build that stopped exporting the batch-size histogram.
      const bad = path.join(dir, 'bad.prom');
      writeFileSync(
        bad,
        readFileSync(FIXTURE, 'utf8')
          .split('\n')
          .filter((l) => !l.includes('caption_batch_size'))
          .join('\n'),
      );
      const failed = cli(['--metrics-file', bad, '--only', 'queried-metrics']);
      expect(failed.status).toBe(1);
      expect(failed.stdout).toMatch(/FAIL queried-metrics/);
      expect(failed.stdout).toMatch(
        /queries "caption_batch_size_sum", which the service does not export/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the exposition as text too, for an e2e test that fetched /metrics itself', async () => {
    const text = readFileSync(FIXTURE, 'utf8').replace(/caption_queue_depth/g, 'caption_queue_len');
    const { outcomes } = await validateGitops({
      root: REPO_ROOT,
      metricsText: text,
      only: ['queried-metrics'],
    });
    expect(outcomes[0].problems.join('\n')).toMatch(
      /queries "caption_queue_depth", which the service does not export[^]*\(metrics from metricsText\)/,
    );
  });

  it('fails loudly when no kustomize can be found', () => {
    const r = spawnSync(
      process.execPath,
      [
        require.resolve('ts-node/dist/bin'),
        '--transpile-only',
        path.join(__dirname, 'validate.ts'),
      ],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, PATH: '/nonexistent', KUSTOMIZE: '/nonexistent/kustomize' },
      },
    );
    // Only meaningful where the SDK fallback is absent too; otherwise it must have found that.
    if (r.status === 2) {
      expect(r.stderr).toMatch(/No kustomize found[^]*Tried:/);
    } else {
      expect(r.stdout).toMatch(
        /kustomize: \/usr\/lib\/google-cloud-sdk\/bin\/kubectl\.1\.\d+ kustomize/,
      );
    }
  });
});

describe('checkQueriedMetricsExist', () => {
  const exposition = [
    '# HELP req_seconds Request time.',
    '# TYPE req_seconds histogram',
    '# TYPE jobs_total counter',
    'jobs_total{kind="a"} 3',
    'queue_depth 1',
  ].join('\n');

  it('accepts histogram series declared but not yet observed, counters and gauges', () => {
    expect(exposedMetrics(exposition)).toEqual(
      new Set([
        'req_seconds',
        'req_seconds_bucket',
        'req_seconds_sum',
        'req_seconds_count',
        'jobs_total',
        'queue_depth',
      ]),
    );
    expect(
      checkQueriedMetricsExist(
        [
          'histogram_quantile(0.9, sum by (le) (rate(req_seconds_bucket[5m])))',
          'rate(jobs_total[1m]) / queue_depth',
        ],
        exposition,
      ),
    ).toEqual([]);
  });

  it('names each metric that is neither exported nor allow-listed, with where it was queried', () => {
    const problems = checkQueriedMetricsExist(
      [
        {
          expr: 'rate(jobs_totl[5m]) + up + container_cpu_usage_seconds_total',
          where: 'panel "X"',
        },
      ],
      exposition,
      ['up'],
    );
    expect(problems).toEqual([
      'panel "X": queries "jobs_totl", which the service does not export and is not on the stack allow-list',
      'panel "X": queries "container_cpu_usage_seconds_total", which the service does not export and is not on the stack allow-list',
    ]);
  });

  it('checks matched labels against the samples the exposition has', () => {
    const text = [
      '# TYPE caption_x_total counter',
      'caption_x_total{reason="a"} 0',
      'caption_x_total{reason="b"} 0',
      'other_total{kind="k"} 1',
    ].join('\n');
    expect(
      checkQueriedMetricsExist(
        ['caption_x_total{job="j", reason="a"}', 'other_total{kind="new"}'],
        text,
      ),
    ).toEqual([]);
    expect(checkQueriedMetricsExist(['caption_x_total{reason="c"}'], text)).toEqual([
      'expression: matches caption_x_total{reason="c"} but the service exports reason only as "a", "b"',
    ]);
    expect(checkQueriedMetricsExist(['rate(other_total{knd=~"k.*"}[5m])'], text)).toEqual([
      'expression: matches other_total{knd=~"k.*"} but other_total has no label "knd"',
    ]);
  });

  it('reads metric names given by __name__ and reports expressions that do not parse', () => {
    expect(queriedMetrics('sum({__name__="queue_depth", job="x"}) by (job)').names).toEqual([
      'queue_depth',
    ]);
    expect(checkQueriedMetricsExist(['sum(rate(jobs_total[5m])'], exposition)[0]).toMatch(
      /does not parse/,
    );
  });
});

describe('findUnknownFields', () => {
  it('reports every unknown field of an object, not only the first TypeScript stops at', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labelz: {} },
      spec: {
        selector: {},
        template: {
          spec: { containers: [{ name: 'a', readinesProbe: {}, resources: { limitz: {} } }] },
        },
      },
    };
    expect(findUnknownFields([deployment]).sort()).toEqual([
      'Deployment x: unknown field "metadata.labelz"',
      'Deployment x: unknown field "spec.template.spec.containers[0].readinesProbe"',
      'Deployment x: unknown field "spec.template.spec.containers[0].resources.limitz"',
    ]);
  });
});

describe('checkQuantileThresholdsOnBuckets', () => {
  const text = ['x_bucket{le="1"} 1', 'x_bucket{le="2"} 2', 'x_bucket{le="+Inf"} 2'].join('\n');

  it('finds the threshold a quantile is compared with, on either side', () => {
    expect(
      quantileThresholds('histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) > 2'),
    ).toEqual([{ bucketMetric: 'x_bucket', threshold: 2 }]);
    expect(quantileThresholds('1.5 < histogram_quantile(0.9, rate(x_bucket[1m]))')).toEqual([
      { bucketMetric: 'x_bucket', threshold: 1.5 },
    ]);
  });

  it('accepts boundaries, rejects thresholds between buckets, and skips histograms it has no buckets for', () => {
    const at = (expr: string) =>
      checkQuantileThresholdsOnBuckets([{ expr, where: 'alert A' }], text);
    expect(at('histogram_quantile(0.95, rate(x_bucket[5m])) > 2')).toEqual([]);
    expect(at('histogram_quantile(0.95, rate(x_bucket[5m])) > 1.5')[0]).toMatch(
      /alert A: compares a quantile of x_bucket with 1.5, which is not a bucket boundary \(le: 1, 2, \+Inf\)/,
    );
    expect(at('histogram_quantile(0.95, rate(y_bucket[5m])) > 1.5')).toEqual([]);
  });
});

import { type GitopsCheck } from '../context';
import { dashboardsOf } from '../dashboards';
import { expandGrafanaVariables } from '../promql';
import { promtoolParse } from '../tools';

const REQUIRED_PANELS: Array<{ what: string; test: (exprs: string[]) => boolean }> = [
  {
    what: 'request rate',
    test: (e) =>
      e.some((x) =>
        /rate\(\s*(http_request_duration_seconds_count|caption_requests_total)/.test(x),
      ),
  },
  {
    what: 'error ratio by code',
    test: (e) =>
      e.some(
        (x) =>
          /by \((code|status_code)\)/.test(x) &&
          /(caption_errors_total|status_code=~"[^"]*5)/.test(x),
      ),
  },
  ...[0.5, 0.95, 0.99].map((q) => ({
    what: `latency p${q * 100}`,
    test: (e: string[]) =>
      e.some((x) =>
        new RegExp(`histogram_quantile\\(${q},[^]*http_request_duration_seconds_bucket`).test(x),
      ),
  })),
  {
    what: 'time by stage',
    test: (e) =>
      e.some((x) => /caption_stage_duration_seconds/.test(x) && /by \([^)]*stage/.test(x)),
  },
  { what: 'queue depth', test: (e) => e.some((x) => /caption_queue_depth/.test(x)) },
  { what: 'batch size', test: (e) => e.some((x) => /caption_batch_size/.test(x)) },
  {
    what: 'cache hit ratio',
    test: (e) =>
      e.some((x) => /caption_cache_hits_total/.test(x) && /caption_cache_misses_total/.test(x)),
  },
  {
    what: 'CPU per pod',
    test: (e) => e.some((x) => /container_cpu_usage_seconds_total/.test(x) && /by \(pod\)/.test(x)),
  },
  {
    what: 'memory per pod',
    test: (e) =>
      e.some((x) => /container_memory_working_set_bytes/.test(x) && /by \(pod\)/.test(x)),
  },
];

export const dashboardCheck: GitopsCheck = {
  id: 'dashboard',
  title:
    "dashboards parse, every panel query passes promtool's PromQL parser, and the required panels are there",
  run(ctx) {
    const problems: string[] = [];
    const all = dashboardsOf(ctx);
    if (!all.length) problems.push('no dashboard ConfigMap is deployed');
    const uids = new Map<string, string>();
    for (const db of all) {
      if (db.error) {
        problems.push(`${db.where}: ${db.error}`);
        continue;
      }
      if (!db.dashboard.uid) {
        problems.push(
          `${db.where}: dashboard has no uid (Grafana would create a new one on every load)`,
        );
      } else if (uids.has(db.dashboard.uid) && uids.get(db.dashboard.uid) !== db.where) {
        problems.push(
          `${db.where}: uid "${db.dashboard.uid}" is also used by ${uids.get(db.dashboard.uid)}`,
        );
      } else {
        uids.set(db.dashboard.uid, db.where);
      }
      if (!db.exprs.length) problems.push(`${db.where}: has no PromQL queries`);
      for (const e of db.exprs) {
        const err = promtoolParse(expandGrafanaVariables(e.expr));
        if (err) problems.push(`${e.where}: PromQL rejected by promtool: ${err}`);
      }
      const exprs = db.exprs.map((e) => e.expr);
      for (const p of REQUIRED_PANELS) {
        if (!p.test(exprs)) problems.push(`${db.where}: no panel shows ${p.what}`);
      }
    }
    return problems;
  },
};

import * as path from 'node:path';
import { type GitopsCheck } from '../context';
import { dashboardsOf } from '../dashboards';
import { alertExprs } from '../lookups';
import {
  checkQuantileThresholdsOnBuckets,
  checkQueriedMetricsExist,
  expandGrafanaVariables,
} from '../promql';
import { STACK_METRICS } from '../stack-metrics';

export const queriedMetricsCheck: GitopsCheck = {
  id: 'queried-metrics',
  title:
    'every metric the dashboards and alerts query is exported by the service (with the labels they match) or on the stack allow-list; latency SLO thresholds sit on bucket boundaries',
  run(ctx) {
    const exprs = [
      ...dashboardsOf(ctx).flatMap((d) =>
        d.exprs.map((e) => ({ ...e, expr: expandGrafanaVariables(e.expr) })),
      ),
      ...alertExprs(ctx),
    ];
    if (!exprs.length) return ['no dashboard or alert expressions found to check'];
    return [
      ...checkQueriedMetricsExist(exprs, ctx.exposition, STACK_METRICS),
      ...checkQuantileThresholdsOnBuckets(alertExprs(ctx), ctx.exposition),
    ].map(
      (m) =>
        `${m} (metrics from ${path.relative(ctx.root, ctx.expositionSource) || ctx.expositionSource})`,
    );
  },
};

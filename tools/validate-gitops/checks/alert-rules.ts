import { stringify } from 'yaml';
import { type GitopsCheck } from '../context';
import { alertsOf, ofKind, rulesOf } from '../lookups';
import { queriedMetrics } from '../promql';
import { describe } from '../schema';
import { promtoolOnFiles } from '../tools';

const REQUIRED_ALERT_SIGNALS: Array<{ what: string; metrics: string[] }> = [
  { what: 'error ratio', metrics: ['http_request_duration_seconds_count', 'caption_errors_total'] },
  { what: 'p95 latency', metrics: ['http_request_duration_seconds_bucket'] },
  {
    what: 'queue saturation / 429 rate',
    metrics: ['caption_queue_depth', 'caption_queue_rejections_total'],
  },
  {
    what: 'pods not ready',
    metrics: ['kube_pod_status_ready', 'kube_deployment_status_replicas_available'],
  },
  { what: 'model load failure', metrics: ['caption_model_ready'] },
];

export const alertRulesCheck: GitopsCheck = {
  id: 'alert-rules',
  title:
    'alert rules pass `promtool check rules`, cover the required signals, and carry severity, summary and runbook',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      const rules = rulesOf(d);
      if (!ofKind(d.objects, 'Deployment').length) continue;
      if (!rules.length) {
        problems.push(`${d.dir}: deploys a workload but no PrometheusRule`);
        continue;
      }
      for (const { rule, groups } of rules) {
        const file = `${rule.metadata.name}.rules.yaml`;
        const r = promtoolOnFiles(['check', 'rules', file], { [file]: stringify({ groups }) });
        if (!r.ok) {
          problems.push(`${d.dir}: ${describe(rule)}: promtool check rules failed: ${r.output}`);
        }
      }
      for (const a of alertsOf(d)) {
        const id = `${d.dir}: alert ${a.alert}`;
        if (!['critical', 'warning', 'info'].includes(a.labels?.severity)) {
          problems.push(`${id}: labels.severity must be critical, warning or info`);
        }
        if (!a.annotations?.summary) problems.push(`${id}: annotations.summary is missing`);
        if (!a.annotations?.description) problems.push(`${id}: annotations.description is missing`);
        if (!a.annotations?.runbook && !a.annotations?.runbook_url) {
          problems.push(`${id}: needs runbook text (annotations.runbook or runbook_url)`);
        }
        if (!a.for) problems.push(`${id}: has no "for"; one bad scrape would page`);
      }
      const queried = new Set(alertsOf(d).flatMap((a) => queriedMetrics(String(a.expr)).names));
      for (const s of REQUIRED_ALERT_SIGNALS) {
        if (!s.metrics.some((m) => queried.has(m))) {
          problems.push(
            `${d.dir}: no alert covers ${s.what} (expected one on ${s.metrics.join(' or ')})`,
          );
        }
      }
    }
    return problems;
  },
};

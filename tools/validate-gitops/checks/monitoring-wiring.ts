import { get, selectorMatches, type GitopsCheck, type Json } from '../context';
import {
  alertExprs,
  ingressController,
  monitoringStack,
  namespaceOf,
  ofKind,
  stackSelector,
} from '../lookups';
import { dashboardsOf } from '../dashboards';
import { expandGrafanaVariables, selectors } from '../promql';
import { describe } from '../schema';

export const monitoringWiringCheck: GitopsCheck = {
  id: 'monitoring-wiring',
  title:
    "ServiceMonitors and rules carry the labels the stack selects, dashboards the sidecar label, the ingress controller's metrics scraped",
  run(ctx) {
    const problems: string[] = [];
    const stack = monitoringStack(ctx);
    if (!stack) return ['no Application installs the kube-prometheus-stack chart'];
    const v = stack.values;
    const smSel = stackSelector(stack, 'serviceMonitor');
    const ruleSel = stackSelector(stack, 'rule');
    for (const d of ctx.deployables) {
      for (const sm of ofKind(d.objects, 'ServiceMonitor')) {
        const id = `${d.dir}: ${describe(sm)}`;
        if (!selectorMatches(smSel, sm.metadata.labels)) {
          problems.push(
            `${id}: labels ${JSON.stringify(sm.metadata.labels ?? {})} do not match the stack's serviceMonitorSelector ${JSON.stringify(smSel)}; Prometheus would ignore it`,
          );
        }
        const svcs = ofKind(d.objects, 'Service').filter((s) =>
          selectorMatches(sm.spec?.selector, s.metadata.labels),
        );
        if (!svcs.length) problems.push(`${id}: selector matches no Service of this app`);
        for (const ep of sm.spec?.endpoints ?? []) {
          if (!svcs.some((s) => (s.spec?.ports ?? []).some((p: Json) => p.name === ep.port))) {
            problems.push(
              `${id}: endpoint port "${ep.port}" is not a named port of the selected Service`,
            );
          }
          if (ep.path && ep.path !== '/metrics') {
            problems.push(`${id}: scrapes ${ep.path}; the service exports /metrics`);
          }
        }
      }
      for (const pr of ofKind(d.objects, 'PrometheusRule')) {
        if (!selectorMatches(ruleSel, pr.metadata.labels)) {
          problems.push(
            `${d.dir}: ${describe(pr)}: labels ${JSON.stringify(pr.metadata.labels ?? {})} do not match the stack's ruleSelector ${JSON.stringify(ruleSel)}; the alerts would never load`,
          );
        }
      }
    }
    // Queries pinned to a job must name the job Prometheus gives the scraped Service (its
    // name, or the label named by jobLabel); renaming the Service silently empties them.
    const dashboards = dashboardsOf(ctx);
    for (const d of ctx.deployables) {
      const jobs = new Set<string>();
      for (const sm of ofKind(d.objects, 'ServiceMonitor')) {
        for (const svc of ofKind(d.objects, 'Service').filter((x) =>
          selectorMatches(sm.spec?.selector, x.metadata.labels),
        )) {
          jobs.add(sm.spec?.jobLabel ? svc.metadata.labels?.[sm.spec.jobLabel] : svc.metadata.name);
        }
      }
      const exprs = [
        ...alertExprs(ctx).filter((e) => e.where.startsWith(`${d.dir}:`)),
        ...dashboards.filter((db) => db.where.startsWith(`${d.dir}:`)).flatMap((db) => db.exprs),
      ];
      for (const e of exprs) {
        for (const sel of selectors(expandGrafanaVariables(e.expr)).selectors) {
          for (const m of sel.matchers) {
            if (m.label === 'job' && m.op === '=' && !jobs.has(m.value)) {
              problems.push(
                `${e.where}: selects job="${m.value}", but this app's ServiceMonitor scrapes job ${[...jobs].map((j) => `"${j}"`).join(', ') || '(none)'}; the query would stay empty`,
              );
            }
          }
        }
      }
    }
    // The ingress controller's own metrics.
    const ic = ingressController(ctx);
    if (ic) {
      const p = ic.values.prometheus ?? {};
      if (p.create !== true) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.create must be true (controller metrics on)`,
        );
      }
      if (p.service?.create !== true) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.service.create must be true (the ServiceMonitor scrapes that Service)`,
        );
      }
      if (p.serviceMonitor?.create !== true) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.serviceMonitor.create must be true`,
        );
      } else if (!selectorMatches(smSel, p.serviceMonitor.labels)) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.serviceMonitor.labels do not match the stack's serviceMonitorSelector ${JSON.stringify(smSel)}`,
        );
      }
    } else {
      problems.push('no Application installs the nginx-ingress chart');
    }
    // Dashboards reach Grafana through the sidecar.
    const side = get(v, 'grafana.sidecar.dashboards') ?? {};
    const label = side.label ?? 'grafana_dashboard';
    const labelValue = String(side.labelValue ?? '1');
    if (side.enabled === false) {
      problems.push(
        'kube-prometheus-stack: grafana.sidecar.dashboards.enabled is false; no dashboard ConfigMap would load',
      );
    }
    const dashboardMaps = ctx.deployables.flatMap((d) =>
      ofKind(d.objects, 'ConfigMap')
        .filter((c) => c.metadata.labels?.[label] !== undefined)
        .map((c) => ({ d, c })),
    );
    if (!dashboardMaps.length) {
      problems.push(`no app ships a dashboard ConfigMap labelled ${label}`);
    }
    for (const { d, c } of dashboardMaps) {
      if (c.metadata.labels[label] !== labelValue) {
        problems.push(
          `${d.dir}: ${describe(c)}: label ${label}="${c.metadata.labels[label]}" but the sidecar loads "${labelValue}"`,
        );
      }
      const search = side.searchNamespace;
      const ns = namespaceOf(d.app);
      if (
        ns !== namespaceOf(stack.app) &&
        search !== 'ALL' &&
        !(Array.isArray(search) ? search : String(search ?? '').split(',')).includes(ns ?? '')
      ) {
        problems.push(
          `${d.dir}: dashboard lives in namespace ${ns}, which grafana.sidecar.dashboards.searchNamespace does not cover`,
        );
      }
    }
    return problems;
  },
};

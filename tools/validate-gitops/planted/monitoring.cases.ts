// Planted mistakes for the monitoring wiring and the ops UIs checks.
import { BASE, DASHBOARD, INGRESS_VALUES, MONITORING_VALUES, type Planted } from './planted';

export const MONITORING_CASES: Planted[] = [
  // monitoring-wiring
  {
    name: 'a ServiceMonitor without the label the stack selects',
    fails: ['monitoring-wiring'],
    plant: (t) =>
      t.replace(
        `${BASE}/servicemonitor.yaml`,
        '    release: kube-prometheus-stack\n',
        '    release: prometheus\n',
      ),
    message: /ServiceMonitor .*do not match the stack's serviceMonitorSelector/,
  },
  {
    name: 'the Grafana admin password written into git',
    fails: ['ops-uis'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        'grafana:\n  admin:\n',
        'grafana:\n  adminPassword: hunter2\n  admin:\n',
      ),
    message: /grafana.adminPassword is set in git/,
  },
  {
    name: 'Prometheus served under a prefix the ingress path does not route',
    fails: ['ops-uis'],
    plant: (t) => t.replace(MONITORING_VALUES, 'routePrefix: /prometheus', 'routePrefix: /prom'),
    message:
      /prometheus.ingress.paths \["\/prometheus"\] must serve prometheus.prometheusSpec.routePrefix \(\/prom\)/,
  },
  {
    name: "the ingress controller's ServiceMonitor turned off",
    fails: ['monitoring-wiring'],
    plant: (t) =>
      t.replace(
        INGRESS_VALUES,
        'serviceMonitor:\n    create: true',
        'serviceMonitor:\n    create: false',
      ),
    message: /nginx-ingress: prometheus.serviceMonitor.create must be true/,
  },
  {
    name: 'a panel pinned to a job name no ServiceMonitor scrapes',
    fails: ['monitoring-wiring'],
    plant: (t) =>
      t.replace(
        DASHBOARD,
        'caption_generated_tokens_total{namespace=\\"$namespace\\", job=\\"caption-service\\"}',
        'caption_generated_tokens_total{namespace=\\"$namespace\\", job=\\"caption\\"}',
      ),
    message:
      /panel "Generated tokens \/ s": selects job="caption", but this app's ServiceMonitor scrapes job "caption-service"/,
  },
];

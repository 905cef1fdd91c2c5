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
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        '  prometheusSpec:\n',
        '  prometheusSpec:\n    routePrefix: /prom\n',
      ),
    message: /prometheus.prometheusSpec.routePrefix \/prom is not its Ingress path \//,
  },
  {
    name: 'Prometheus believing it is served at another URL than its Ingress',
    fails: ['ops-uis'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        'externalUrl: https://prometheus.ops.example.com/',
        'externalUrl: http://ops.example.com/prometheus',
      ),
    message:
      /prometheus believes it is served at "http:\/\/ops.example.com\/prometheus" but its Ingress serves https:\/\/prometheus.ops.example.com\//,
  },
  {
    name: 'Alertmanager published without a login',
    fails: ['ops-uis'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        /(silence the alerts: NGINX asks for the ops login.\n) {6}nginx.org\/basic-auth-secret: ops-basic-auth\n/,
        '$1',
      ),
    message: /alertmanager.ingress has no login in front \(nginx.org\/basic-auth-secret\)/,
  },
  // ingress-hosts, ingress-annotations
  {
    name: 'two ops UIs on one host (the controller serves one Ingress per host)',
    // Prometheus' own URL no longer matches its Ingress either.
    fails: ['ingress-hosts', 'ops-uis'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        '      - prometheus.ops.example.com\n    paths:',
        '      - grafana.ops.example.com\n    paths:',
      ),
    message:
      /host grafana.ops.example.com \(class nginx\) is claimed by kube-prometheus-stack values grafana.ingress and kube-prometheus-stack values prometheus.ingress/,
  },
  {
    name: 'the caption Ingress without a certificate issuer',
    fails: ['ingress-hosts'],
    plant: (t) =>
      t.replace(`${BASE}/ingress.yaml`, '    cert-manager.io/cluster-issuer: letsencrypt\n', ''),
    message:
      /Ingress caption-production\/caption-service: no cert-manager.io\/cluster-issuer annotation/,
  },
  {
    name: 'an annotation the F5 controller does not read',
    fails: ['ingress-annotations'],
    plant: (t) =>
      t.replace(
        `${BASE}/ingress.yaml`,
        '    nginx.org/proxy-connect-timeout: "5s"\n',
        '    nginx.org/proxy-connect-timeout: "5s"\n    nginx.org/proxy-request-buffering: "false"\n',
      ),
    message:
      /annotation nginx.org\/proxy-request-buffering is not read by the F5 NGINX Ingress Controller v5.5.4/,
  },
  // alertmanager-routing
  {
    name: 'critical alerts routed to the null receiver',
    fails: ['alertmanager-routing'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        '        - receiver: slack\n          matchers:\n            - severity = "critical"',
        '        - receiver: "null"\n          matchers:\n            - severity = "critical"',
      ),
    message:
      /alert CaptionServiceModelLoadFailure \(severity critical\) routes to null, which notifies nobody/,
  },
  {
    name: 'the Slack webhook read from a Secret that is not mounted',
    fails: ['alertmanager-routing'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        '    secrets:\n      - alertmanager-slack\n',
        '    secrets: []\n',
      ),
    message:
      /reads \/etc\/alertmanager\/secrets\/alertmanager-slack\/webhook-url, which is not a file of a Secret listed/,
  },
  {
    name: 'an Alertmanager config amtool rejects',
    fails: ['alertmanager-routing'],
    plant: (t) => t.replace(MONITORING_VALUES, 'group_wait: 30s', 'group_wait: thirty'),
    message: /amtool check-config failed/,
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

// Each check of `npm run validate:gitops` shown failing: copy the real gitops/ tree, plant
// one realistic mistake, run the whole validator, and assert that exactly the expected
// check(s) fail with a message that points at the mistake.
import { ScratchTree } from './helpers.spec-util';
import { validateGitops } from './validate';

const BASE = 'gitops/apps/caption-service/base';
const DEPLOYMENT = `${BASE}/deployment.yaml`;
const INGRESS = `${BASE}/ingress.yaml`;
const RULES = `${BASE}/prometheusrule.yaml`;
const DASHBOARD = `${BASE}/dashboards/caption-service.json`;
const STAGING = 'gitops/apps/caption-service/overlays/staging/kustomization.yaml';
const PRODUCTION = 'gitops/apps/caption-service/overlays/production/kustomization.yaml';
const TESTS = 'gitops/apps/caption-service/tests/alerts.test.yaml';
const MONITORING_APP = 'gitops/monitoring/application.yaml';
const MONITORING_VALUES = 'gitops/monitoring/values.yaml';
const INGRESS_APP = 'gitops/ingress/application.yaml';
const INGRESS_VALUES = 'gitops/ingress/values.yaml';

interface Planted {
  name: string;
  /** The checks that must fail, and only those. */
  fails: string[];
  plant(t: ScratchTree): void;
  /** Must match one of the failing checks' messages. */
  message: RegExp;
}

const cases: Planted[] = [
  // kustomize-build
  {
    name: 'an overlay patch points at a field that does not exist',
    fails: ['kustomize-build'],
    plant: (t) => t.replace(STAGING, 'path: /spec/maxReplicas', 'path: /spec/maxReplica/0'),
    message: /overlays\/staging: kustomize build failed/,
  },
  // schema
  {
    name: 'a misspelt field in the Service (targetport)',
    fails: ['schema'],
    plant: (t) => t.replace(`${BASE}/service.yaml`, 'targetPort: http', 'targetport: http'),
    message:
      /Service caption-(staging|production)\/caption-service: unknown field "spec.ports\[0\].targetport"/,
  },
  {
    name: 'a string where the HPA schema wants an integer',
    fails: ['schema'],
    plant: (t) =>
      t.replace(`${BASE}/hpa.yaml`, 'averageUtilization: 70', 'averageUtilization: "70%"'),
    message:
      /HorizontalPodAutoscaler .*spec.metrics.0.resource.target.averageUtilization must be integer/,
  },
  {
    name: 'an unknown field in a prometheus-operator CRD object (ServiceMonitor)',
    fails: ['schema'],
    plant: (t) =>
      t.replace(`${BASE}/servicemonitor.yaml`, 'scrapeTimeout: 10s', 'scrapeTimout: 10s'),
    message: /ServiceMonitor .*unknown field "spec.endpoints\[0\].scrapeTimout"/,
  },
  {
    name: 'an API version the cluster no longer serves',
    fails: ['schema'],
    plant: (t) =>
      t.replace(`${BASE}/pdb.yaml`, 'apiVersion: policy/v1', 'apiVersion: policy/v1beta1'),
    message:
      /PodDisruptionBudget .*apiVersion policy\/v1beta1 is no longer served since Kubernetes 1.25/,
  },
  {
    name: 'a misspelt apiVersion',
    fails: ['schema'],
    plant: (t) =>
      t.replace(
        `${BASE}/networkpolicy.yaml`,
        'apiVersion: networking.k8s.io/v1',
        'apiVersion: networking.k8s/v1',
      ),
    message: /no schema for apiVersion "networking.k8s\/v1" kind "NetworkPolicy"/,
  },
  // argocd-applications
  {
    name: 'an Application without CreateNamespace=true',
    fails: ['argocd-applications'],
    plant: (t) => t.replace(MONITORING_APP, '      - CreateNamespace=true\n', ''),
    message: /Application kube-prometheus-stack .*CreateNamespace=true/,
  },
  {
    name: 'an Application without the resources finalizer',
    fails: ['argocd-applications'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/root-app.yaml',
        '  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n',
        '',
      ),
    message: /Application root .*resources-finalizer/,
  },
  {
    name: 'automated sync without selfHeal',
    fails: ['argocd-applications'],
    plant: (t) =>
      t.replace('gitops/apps/caption-service-production.yaml', 'selfHeal: true', 'selfHeal: false'),
    message: /caption-service-production .*selfHeal must be true/,
  },
  {
    name: 'a value file that is not in the repo',
    // Without its values the chart would also run with metrics off, which the wiring check sees.
    fails: ['argocd-applications', 'monitoring-wiring'],
    plant: (t) =>
      t.replace(
        INGRESS_APP,
        '$values/gitops/ingress/values.yaml',
        '$values/gitops/ingress/value.yaml',
      ),
    message: /value file \$values\/gitops\/ingress\/value.yaml does not resolve/,
  },
  {
    name: 'an app folder left out of the app-of-apps',
    fails: ['argocd-applications'],
    plant: (t) => t.replace('gitops/apps/kustomization.yaml', '  - ../monitoring\n', ''),
    message:
      /Application kube-prometheus-stack \(gitops\/monitoring\): not rendered by the root app's folder gitops\/apps/,
  },
  {
    name: 'an overlay namespace that differs from the Application destination',
    fails: ['argocd-applications'],
    plant: (t) => t.replace(PRODUCTION, 'namespace: caption-production', 'namespace: caption-prod'),
    message:
      /overlays\/production: Deployment caption-prod\/caption-service is in namespace caption-prod, but Application caption-service-production deploys to caption-production/,
  },
  // argocd-projects
  {
    name: 'an Application in the unrestricted default project',
    fails: ['argocd-projects'],
    plant: (t) =>
      t.replace(
        'gitops/apps/caption-service-staging.yaml',
        'project: caption-platform',
        'project: default',
      ),
    message: /caption-service-staging: uses the unrestricted "default" project/,
  },
  {
    name: 'a destination namespace the AppProject does not allow',
    fails: ['argocd-projects'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/projects.yaml',
        '      namespace: caption-staging\n',
        '      namespace: caption-dev\n',
      ),
    message:
      /caption-service-staging: destination .*\/caption-staging is not allowed by AppProject caption-platform/,
  },
  // pinned-versions
  {
    name: 'a chart version range instead of a pinned version',
    fails: ['pinned-versions'],
    plant: (t) => t.replace(MONITORING_APP, 'targetRevision: 84.5.0', 'targetRevision: 84.*'),
    message: /kube-prometheus-stack .*targetRevision "84.\*" must be an exact version/,
  },
  {
    name: 'the image tag set to latest',
    fails: ['pinned-versions'],
    plant: (t) => t.replace(STAGING, /newTag: [0-9a-f]{40}/, 'newTag: latest'),
    message: /overlays\/staging: Deployment .*uses the moving tag latest/,
  },
  {
    name: 'Argo CD installed from the moving stable branch',
    fails: ['pinned-versions'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/argocd/kustomization.yaml',
        'argo-cd/v3.3.8/manifests',
        'argo-cd/stable/manifests',
      ),
    message: /remote resource .*argo-cd\/stable\/manifests\/install.yaml is not pinned/,
  },
  // sync-order
  {
    name: 'kube-prometheus-stack without ServerSideApply',
    fails: ['sync-order'],
    plant: (t) => t.replace(MONITORING_APP, '      - ServerSideApply=true\n', ''),
    message: /kube-prometheus-stack: syncOptions must include ServerSideApply=true/,
  },
  {
    name: 'the caption service synced in a wave before the monitoring CRDs',
    fails: ['sync-order'],
    plant: (t) =>
      t.replace('gitops/apps/caption-service-production.yaml', 'sync-wave: "0"', 'sync-wave: "-2"'),
    message: /caption-service-production: sync-wave -2 comes before kube-prometheus-stack/,
  },
  {
    name: 'the ingress app sharing the stack wave without SkipDryRunOnMissingResource',
    fails: ['sync-order'],
    plant: (t) => t.replace(INGRESS_APP, '      - SkipDryRunOnMissingResource=true\n', ''),
    message:
      /nginx-ingress: shares sync-wave -1 with kube-prometheus-stack but lacks SkipDryRunOnMissingResource/,
  },
  {
    name: 'argocd-cm without the Application health check',
    fails: ['sync-order'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/argocd/argocd-cm.yaml',
        'resource.customizations.health.argoproj.io_Application',
        'resource.customizations.health.argoproj.io_AppProject',
      ),
    message: /argocd-cm has no resource.customizations.health.argoproj.io_Application/,
  },
  // workload-policy
  {
    name: 'CPU request below the limit',
    fails: ['workload-policy'],
    plant: (t) =>
      t.replace(STAGING, 'requests:\n            cpu: "1"', 'requests:\n            cpu: 500m'),
    message: /overlays\/staging: Deployment .*CPU request 500m differs from limit 1/,
  },
  {
    name: 'a startup probe too short for model warm-up',
    fails: ['workload-policy'],
    plant: (t) => t.replace(DEPLOYMENT, 'failureThreshold: 60', 'failureThreshold: 6'),
    message: /startupProbe allows 30s .* may take 300s/,
  },
  {
    name: 'liveness probing the readiness endpoint',
    fails: ['workload-policy'],
    plant: (t) => t.replace(DEPLOYMENT, 'path: /health/live', 'path: /health/ready'),
    message: /livenessProbe must probe \/health\/live, not \/health\/ready/,
  },
  {
    name: 'the pod allowed to run as root',
    fails: ['workload-policy'],
    plant: (t) => {
      t.replace(
        DEPLOYMENT,
        / {8}runAsNonRoot: true\n(\s+#.*\n)+ {8}runAsUser: 1000\n/,
        '        runAsUser: 0\n',
      );
      t.replace(DEPLOYMENT, '            runAsNonRoot: true\n', '');
    },
    message: /runAsNonRoot must be true/,
  },
  {
    name: 'a grace period shorter than preStop + drain timeout',
    fails: ['workload-policy'],
    plant: (t) =>
      t.replace(
        DEPLOYMENT,
        'terminationGracePeriodSeconds: 40',
        'terminationGracePeriodSeconds: 25',
      ),
    message:
      /terminationGracePeriodSeconds 25 must exceed preStop \(5s\) \+ SHUTDOWN_TIMEOUT_MS \(25s\) = 30s/,
  },
  {
    name: 'engine threads hard-coded above the CPU limit',
    fails: ['workload-policy'],
    plant: (t) =>
      t.replace(
        DEPLOYMENT,
        /- name: ENGINE_THREADS\n\s+valueFrom:\n\s+resourceFieldRef:\n\s+containerName: caption-service\n\s+resource: limits.cpu\n\s+divisor: "1"\n/,
        '- name: ENGINE_THREADS\n              value: "8"\n',
      ),
    message: /ENGINE_WORKERS=1 x ENGINE_THREADS=8 does not fit the CPU limit/,
  },
  {
    name: 'a fractional CPU limit with threads taken from it',
    fails: ['workload-policy'],
    plant: (t) =>
      t.replace(
        STAGING,
        /cpu: "1"\n(\s+)memory: 2Gi\n(\s+)limits:\n(\s+)cpu: "1"/,
        'cpu: 1500m\n$1memory: 2Gi\n$2limits:\n$3cpu: 1500m',
      ),
    message:
      /CPU limit 1500m is not a whole number of cores: ENGINE_THREADS becomes 2 \(rounded up\) but the service's CPU budget is 1/,
  },
  // ingress
  {
    name: 'a body-size limit below the service upload limit',
    fails: ['ingress'],
    plant: (t) =>
      t.replace(
        INGRESS,
        'nginx.org/client-max-body-size: "25m"',
        'nginx.org/client-max-body-size: "10m"',
      ),
    message: /client-max-body-size 10m is not above MAX_UPLOAD_BYTES 20971520/,
  },
  {
    name: "the retired community controller's annotation instead of nginx.org",
    fails: ['ingress'],
    plant: (t) =>
      t.replace(
        INGRESS,
        'nginx.org/proxy-read-timeout: "30s"',
        'nginx.ingress.kubernetes.io/proxy-read-timeout: "30"',
      ),
    message:
      /nginx.ingress.kubernetes.io\/proxy-read-timeout belongs to the retired community ingress-nginx/,
  },
  {
    name: 'a proxy timeout below the request deadline',
    fails: ['ingress'],
    plant: (t) =>
      t.replace(
        INGRESS,
        'nginx.org/proxy-send-timeout: "30s"',
        'nginx.org/proxy-send-timeout: "15s"',
      ),
    message: /proxy-send-timeout 15s is not above REQUEST_TIMEOUT_MS 20000ms/,
  },
  {
    name: 'a catch-all path that publishes /metrics',
    fails: ['ingress'],
    plant: (t) =>
      t.replace(
        INGRESS,
        '- path: /docs\n            pathType: Prefix',
        '- path: /\n            pathType: Prefix',
      ),
    message: /path \/ \(Prefix\) exposes \/metrics to the internet/,
  },
  // availability
  {
    name: 'an HPA floor of one replica',
    fails: ['availability'],
    plant: (t) => t.replace(`${BASE}/hpa.yaml`, 'minReplicas: 2', 'minReplicas: 1'),
    message: /HPA minReplicas 1 is below 2/,
  },
  {
    name: 'a PodDisruptionBudget that blocks every drain',
    fails: ['availability'],
    plant: (t) => t.replace(`${BASE}/pdb.yaml`, 'maxUnavailable: 1', 'maxUnavailable: 0'),
    message: /maxUnavailable 0 blocks every node drain/,
  },
  {
    name: 'replicas set on a Deployment the HPA scales',
    fails: ['availability'],
    plant: (t) =>
      t.replace(
        DEPLOYMENT,
        '  revisionHistoryLimit: 5\n',
        '  replicas: 3\n  revisionHistoryLimit: 5\n',
      ),
    message: /sets spec.replicas while an HPA scales it/,
  },
  // network-policy
  {
    name: 'the NetworkPolicy admitting a namespace other than ingress and monitoring',
    fails: ['network-policy'],
    plant: (t) =>
      t.replace(
        `${BASE}/networkpolicy.yaml`,
        'kubernetes.io/metadata.name: monitoring',
        'kubernetes.io/metadata.name: default',
      ),
    message:
      /admits namespace "default", which is neither the ingress controller's \(nginx-ingress\) nor Prometheus' \(monitoring\)/,
  },
  {
    name: 'the NetworkPolicy admitting whole namespaces without a pod selector',
    fails: ['network-policy'],
    plant: (t) =>
      t.replace(
        `${BASE}/networkpolicy.yaml`,
        '          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: nginx-ingress\n',
        '',
      ),
    message: /peer in namespace nginx-ingress must also select the pods/,
  },
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
    fails: ['monitoring-wiring'],
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
    fails: ['monitoring-wiring'],
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
  // alert-rules (the unit tests notice most rule mistakes too: both must fail)
  {
    name: 'an alert with a severity Alertmanager does not route',
    fails: ['alert-rules', 'alert-tests'],
    plant: (t) =>
      t.replace(
        RULES,
        /(alert: CaptionServiceHighErrorRatio[^]*?)severity: critical/,
        '$1severity: page',
      ),
    message:
      /alert CaptionServiceHighErrorRatio: labels.severity must be critical, warning or info/,
  },
  {
    name: 'the model-load alert deleted',
    fails: ['alert-rules', 'alert-tests'],
    plant: (t) => t.replace(RULES, /\n\s+- alert: CaptionServiceModelLoadFailure[^]*$/, '\n'),
    message: /no alert covers model load failure/,
  },
  {
    name: 'an alert expression that does not parse',
    fails: ['alert-rules', 'alert-tests', 'queried-metrics'],
    plant: (t) =>
      t.replace(
        RULES,
        'max by (namespace, pod) (caption_model_ready{job="caption-service"}) == 0',
        'max by (namespace, pod) (caption_model_ready{job="caption-service"} == 0',
      ),
    message: /promtool check rules failed/,
  },
  // alert-tests
  {
    name: 'an alert threshold that no longer fires on its unit test',
    fails: ['alert-tests'],
    plant: (t) => t.replace(RULES, '> 0.05', '> 0.5'),
    message: /promtool test rules .* failed:[^]*CaptionServiceHighErrorRatio/,
  },
  {
    name: 'an alert left without a unit test',
    fails: ['alert-tests'],
    plant: (t) => t.replace(TESTS, /\n {2}# Model: never ready[^]*$/, '\n'),
    message: /alert CaptionServiceModelLoadFailure has no unit test/,
  },
  // dashboard
  {
    name: 'dashboard JSON that does not parse',
    fails: ['dashboard'],
    plant: (t) => t.replace(DASHBOARD, '"refresh": "30s",', '"refresh": "30s",,'),
    message: /dashboard JSON does not parse/,
  },
  {
    name: 'a panel query promtool rejects',
    fails: ['dashboard', 'queried-metrics'],
    plant: (t) =>
      t.replace(
        DASHBOARD,
        '"expr": "sum(rate(caption_generated_tokens_total{namespace=\\"$namespace\\", job=\\"caption-service\\"}[$__rate_interval]))"',
        '"expr": "sum(rate(caption_generated_tokens_total{namespace=\\"$namespace\\", job=\\"caption-service\\"}[$__rate_interval])"',
      ),
    message: /panel "Generated tokens \/ s": PromQL rejected by promtool/,
  },
  {
    name: 'the cache hit ratio panel removed',
    fails: ['dashboard'],
    plant: (t) => {
      const d = JSON.parse(t.read(DASHBOARD));
      d.panels = d.panels.filter((p: { title: string }) => p.title !== 'Cache hit ratio');
      t.write(DASHBOARD, JSON.stringify(d, null, 2));
    },
    message: /no panel shows cache hit ratio/,
  },
  // queried-metrics
  {
    name: 'a panel querying a metric the service does not export',
    fails: ['queried-metrics'],
    plant: (t) =>
      t.replace(DASHBOARD, 'caption_generated_tokens_total', 'caption_tokens_generated_total'),
    message:
      /panel "Generated tokens \/ s": queries "caption_tokens_generated_total", which the service does not export/,
  },
  {
    name: 'an alert and its unit test agreeing on a label value the service never exports',
    // The unit test was written with the same wrong value, so only the exposition catches it.
    fails: ['queried-metrics'],
    plant: (t) => {
      t.replace(RULES, 'reason="queue_full"', 'reason="queue-full"');
      t.replace(TESTS, 'reason="queue_full"', 'reason="queue-full"');
    },
    message:
      /matches caption_queue_rejections_total\{reason="queue-full"\} but the service exports reason only as "queue_full", "not_ready"/,
  },
  {
    name: 'a dashboard variable reading a metric that does not exist',
    fails: ['queried-metrics'],
    plant: (t) => {
      t.replace(
        DASHBOARD,
        '"query": "label_values(caption_model_info, namespace)"',
        '"query": "label_values(caption_model_infos, namespace)"',
      );
    },
    message: /variable \$namespace: queries "caption_model_infos"/,
  },
  {
    name: 'a latency SLO threshold between two histogram buckets',
    // Its unit test still passes (p95 of the test data is above both): only the buckets tell.
    fails: ['queried-metrics'],
    plant: (t) => t.replace(RULES, /\) > 2\n/, ') > 3\n'),
    message:
      /CaptionServiceLatencyP95AboveSLO: compares a quantile of http_request_duration_seconds_bucket with 3, which is not a bucket boundary/,
  },
  {
    name: 'a stack metric that is not on the allow-list',
    fails: ['queried-metrics'],
    plant: (t) =>
      t.replace(
        DASHBOARD,
        'sum by (pod) (container_memory_working_set_bytes',
        'sum by (pod) (container_memory_working_set_bytes + container_memory_rss',
      ),
    message:
      /queries "container_memory_rss", which the service does not export and is not on the stack allow-list/,
  },
];

describe('validate:gitops fails on planted mistakes', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const tree = new ScratchTree();
    try {
      c.plant(tree);
      const { outcomes } = await validateGitops({ root: tree.root });
      const failing = outcomes.filter((o) => o.problems.length);
      expect(failing.map((o) => o.id).sort()).toEqual([...c.fails].sort());
      const messages = failing.flatMap((o) => o.problems);
      // On a miss, show what the validator did say.
      expect(messages.find((m) => c.message.test(m)) ?? messages).toEqual(
        expect.stringMatching(c.message),
      );
    } finally {
      tree.remove();
    }
  });

  it('plants a mistake for every check', () => {
    const { CHECKS } = jest.requireActual('./checks') as typeof import('./checks');
    const covered = new Set(cases.flatMap((c) => c.fails));
    expect(CHECKS.map((c) => c.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});

// Planted mistakes for the workloads: resources, probes, security, drain, ingress, availability, network policy checks.
import { BASE, DEPLOYMENT, INGRESS, PRODUCTION, STAGING, type Planted } from './planted';

export const WORKLOADS_CASES: Planted[] = [
  // workload-resources, workload-probes, workload-security, workload-drain
  {
    name: 'CPU request below the limit',
    fails: ['workload-resources'],
    plant: (t) =>
      t.replace(STAGING, 'requests:\n            cpu: "1"', 'requests:\n            cpu: 500m'),
    message: /overlays\/staging: Deployment .*CPU request 500m differs from limit 1/,
  },
  {
    name: 'a startup probe too short for model warm-up',
    fails: ['workload-probes'],
    plant: (t) => t.replace(DEPLOYMENT, 'failureThreshold: 60', 'failureThreshold: 6'),
    message: /startupProbe allows 30s .* may take 300s/,
  },
  {
    name: 'liveness probing the readiness endpoint',
    fails: ['workload-probes'],
    plant: (t) => t.replace(DEPLOYMENT, 'path: /health/live', 'path: /health/ready'),
    message: /livenessProbe must probe \/health\/live, not \/health\/ready/,
  },
  {
    name: 'the pod allowed to run as root',
    fails: ['workload-security'],
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
    fails: ['workload-drain'],
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
    fails: ['workload-resources'],
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
    fails: ['workload-resources'],
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
  // capacity
  {
    name: 'HPA maxima the node pool cannot hold (production back at 10 replicas)',
    fails: ['capacity'],
    plant: (t) =>
      t.replace(
        PRODUCTION,
        '        path: /spec/maxReplicas\n        value: 6',
        '        path: /spec/maxReplicas\n        value: 10',
      ),
    message:
      /8 x c2d-standard-4 \(3\.52 schedulable cores each [^)]*\) cannot hold the \d+ pods of the HPA maxima plus surge: 3 would stay Pending \(gitops\/apps\/caption-service\/overlays\/production caption-service 2 CPU\)/,
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
];

// Planted mistakes for the Argo CD: builds, schemas, Applications, projects, pins, sync order checks.
import {
  BASE,
  INGRESS_APP,
  MONITORING_APP,
  MONITORING_VALUES,
  PRODUCTION,
  STAGING,
  type Planted,
} from './planted';

export const ARGOCD_CASES: Planted[] = [
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
    // No such release upstream either.
    fails: ['pinned-versions', 'upstream-pins'],
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
    // No stand-in is recorded for that URL either, so the offline build stops too.
    fails: ['pinned-versions', 'kustomize-build'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/argocd/kustomization.yaml',
        'argo-cd/v3.3.14/manifests',
        'argo-cd/stable/manifests',
      ),
    message: /remote resource .*argo-cd\/stable\/manifests\/install.yaml is not pinned/,
  },
  // the bootstrap against the upstream install manifest's shape
  {
    name: 'the argocd-cm patch naming the argocd namespace (the upstream object has none)',
    fails: ['kustomize-build'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/argocd/argocd-cm.yaml',
        '  name: argocd-cm\n',
        '  name: argocd-cm\n  namespace: argocd\n',
      ),
    message: /no matches for Id ConfigMap.v1.\[noGrp\]\/argocd-cm.argocd/,
  },
  // upstream-pins
  {
    name: 'a chart version that was never released (nginx-ingress 2.7.2)',
    fails: ['upstream-pins'],
    plant: (t) => t.replace(INGRESS_APP, 'targetRevision: 2.6.4', 'targetRevision: 2.7.2'),
    message: /chart nginx-ingress: version 2.7.2 was never released upstream/,
  },
  {
    name: 'Argo CD pinned to an older patch than the newest of its minor',
    // The stand-in is recorded for v3.3.14 only: the older URL cannot be rendered either.
    fails: ['upstream-pins', 'kustomize-build'],
    plant: (t) =>
      t.replace(
        'gitops/bootstrap/argocd/kustomization.yaml',
        'argo-cd/v3.3.14/manifests',
        'argo-cd/v3.3.8/manifests',
      ),
    message: /Argo CD v3.3.8 is not the newest patch of its minor \(v3.3.14 is released\)/,
  },
  {
    name: 'a newer patch of the pinned Argo CD minor recorded upstream',
    fails: ['upstream-pins'],
    plant: (t) =>
      t.replace('upstream/argo-cd.json', '\n    "v3.3.14",', '\n    "v3.3.14",\n    "v3.3.15",'),
    message: /Argo CD v3.3.14 is not the newest patch of its minor \(v3.3.15 is released\)/,
  },
  // chart-values
  {
    name: 'a Helm value the chart does not read (a misspelt key)',
    fails: ['chart-values'],
    plant: (t) =>
      t.replace(
        MONITORING_VALUES,
        '    path: /\n    pathType: Prefix',
        '    path: /\n    pathTyp: Prefix',
      ),
    message: /kube-prometheus-stack 84.5.0 has no value "grafana.ingress.pathTyp"/,
  },
  // crd-fields
  {
    name: 'a ClusterIssuer field cert-manager does not have',
    fails: ['crd-fields'],
    plant: (t) =>
      t.replace(
        'gitops/cert-manager/issuers/cluster-issuer.yaml',
        'privateKeySecretRef:',
        'privateKeySecretReference:',
      ),
    message:
      /ClusterIssuer letsencrypt: field "spec.acme.privateKeySecretReference" is not in the ClusterIssuer CRD of cert-manager\/cert-manager@v1.21.1/,
  },
  {
    name: 'an Application field Argo CD does not have',
    // kubernetes-models' Application type rejects it too.
    fails: ['crd-fields', 'schema'],
    plant: (t) =>
      t.replace(
        'gitops/apps/caption-service-staging.yaml',
        '      selfHeal: true\n',
        '      selfHeal: true\n      selfHealTimeout: 5s\n',
      ),
    message:
      /field "spec.syncPolicy.automated.selfHealTimeout" is not in the Application CRD of argoproj\/argo-cd@v3.3.14/,
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
];

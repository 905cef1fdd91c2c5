import { get, type GitopsCheck } from '../context';
import { ingressController, monitoringStack } from '../lookups';

export const opsUisCheck: GitopsCheck = {
  id: 'ops-uis',
  title:
    'Grafana, Prometheus and Alertmanager reachable through the ingress controller on their sub-paths, Grafana admin password out of git',
  run(ctx) {
    const problems: string[] = [];
    const stack = monitoringStack(ctx);
    if (!stack) return ['no Application installs the kube-prometheus-stack chart'];
    const v = stack.values;
    const ic = ingressController(ctx);
    // Grafana admin password from a Secret that is not in git.
    if (!get(v, 'grafana.admin.existingSecret')) {
      problems.push(
        'kube-prometheus-stack: grafana.admin.existingSecret must name the out-of-git Secret with the admin password',
      );
    }
    if (get(v, 'grafana.adminPassword') !== undefined) {
      problems.push(
        'kube-prometheus-stack: grafana.adminPassword is set in git; use grafana.admin.existingSecret',
      );
    }
    const className = get(ic?.values, 'controller.ingressClass.name') ?? 'nginx';
    // Sub-paths: the ingress path and the app's own prefix must agree, or links break.
    const g = get(v, 'grafana.ingress') ?? {};
    const gPath = g.path ?? '/';
    // 'grafana.ini' is one key with a dot in it, hence the explicit lookups.
    const grafanaIni = get(v, 'grafana')?.['grafana.ini'] ?? {};
    const rootUrl = String(grafanaIni.server?.root_url ?? '');
    if (g.enabled !== true) {
      problems.push('kube-prometheus-stack: grafana.ingress.enabled must be true');
    } else {
      if (g.ingressClassName !== className) {
        problems.push(
          `kube-prometheus-stack: grafana.ingress.ingressClassName must be "${className}"`,
        );
      }
      if (gPath === '/' || !rootUrl.replace(/\/$/, '').endsWith(gPath.replace(/\/$/, ''))) {
        problems.push(
          `kube-prometheus-stack: Grafana's ingress path "${gPath}" needs grafana.ini server.root_url ending in that sub-path (is "${rootUrl}")`,
        );
      }
      if (grafanaIni.server?.serve_from_sub_path !== true) {
        problems.push(
          'kube-prometheus-stack: grafana.ini server.serve_from_sub_path must be true behind a sub-path',
        );
      }
    }
    for (const [name, specKey] of [
      ['prometheus', 'prometheusSpec'],
      ['alertmanager', 'alertmanagerSpec'],
    ] as const) {
      const ing = get(v, `${name}.ingress`) ?? {};
      const prefix = get(v, `${name}.${specKey}.routePrefix`);
      if (ing.enabled !== true) {
        problems.push(`kube-prometheus-stack: ${name}.ingress.enabled must be true`);
      } else {
        if (ing.ingressClassName !== className) {
          problems.push(
            `kube-prometheus-stack: ${name}.ingress.ingressClassName must be "${className}"`,
          );
        }
        const paths: string[] = ing.paths ?? [];
        if (!prefix || prefix === '/' || !paths.includes(prefix)) {
          problems.push(
            `kube-prometheus-stack: ${name}.ingress.paths ${JSON.stringify(paths)} must serve ${name}.${specKey}.routePrefix (${prefix ?? 'unset'}) on a sub-path`,
          );
        }
      }
    }
    return problems;
  },
};

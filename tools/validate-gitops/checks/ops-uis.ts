import { get, type GitopsCheck, type Json } from '../context';
import { ingressController, monitoringStack, STACK_UIS } from '../lookups';

/** The URL each UI believes it is served at (links and redirects are built from it). */
function externalUrl(values: Json, ui: (typeof STACK_UIS)[number]): string {
  if (ui === 'grafana') {
    return String(get(values, 'grafana')?.['grafana.ini']?.server?.root_url ?? '');
  }
  const spec = ui === 'prometheus' ? 'prometheusSpec' : 'alertmanagerSpec';
  return String(get(values, `${ui}.${spec}.externalUrl`) ?? '');
}

export const opsUisCheck: GitopsCheck = {
  id: 'ops-uis',
  title:
    'Grafana, Prometheus and Alertmanager each behind the ingress controller on their own HTTPS URL, Prometheus and Alertmanager behind a login, Grafana admin password out of git',
  run(ctx) {
    const problems: string[] = [];
    const stack = monitoringStack(ctx);
    if (!stack) return ['no Application installs the kube-prometheus-stack chart'];
    const v = stack.values;
    const className =
      get(ingressController(ctx)?.values, 'controller.ingressClass.name') ?? 'nginx';
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
    for (const ui of STACK_UIS) {
      const ing = get(v, `${ui}.ingress`) ?? {};
      const id = `kube-prometheus-stack: ${ui}.ingress`;
      if (ing.enabled !== true) {
        problems.push(`${id}.enabled must be true`);
        continue;
      }
      if (ing.ingressClassName !== className) {
        problems.push(`${id}.ingressClassName must be "${className}"`);
      }
      const hosts: string[] = ing.hosts ?? [];
      if (hosts.length !== 1) {
        problems.push(`${id}.hosts must name exactly one host (has ${JSON.stringify(hosts)})`);
        continue;
      }
      const path = ui === 'grafana' ? (ing.path ?? '/') : (ing.paths ?? ['/'])[0];
      const want = `https://${hosts[0]}${String(path).replace(/\/?$/, '/')}`;
      const url = externalUrl(v, ui);
      if (url.replace(/\/?$/, '/') !== want) {
        problems.push(
          `kube-prometheus-stack: ${ui} believes it is served at "${url}" but its Ingress serves ${want}; links and redirects would break`,
        );
      }
      const spec = ui === 'prometheus' ? 'prometheusSpec' : 'alertmanagerSpec';
      const prefix = ui === 'grafana' ? undefined : get(v, `${ui}.${spec}.routePrefix`);
      if (prefix && prefix !== path) {
        problems.push(
          `kube-prometheus-stack: ${ui}.${spec}.routePrefix ${prefix} is not its Ingress path ${path}`,
        );
      }
      if (ui === 'grafana') {
        const sub = get(v, 'grafana')?.['grafana.ini']?.server?.serve_from_sub_path;
        if (path !== '/' && sub !== true) {
          problems.push(
            'kube-prometheus-stack: grafana.ini server.serve_from_sub_path must be true behind a sub-path',
          );
        }
      } else if (!ing.annotations?.['nginx.org/basic-auth-secret']) {
        // Grafana has its own login; these two have none, and Alertmanager's API creates silences.
        problems.push(
          `${id} has no login in front (nginx.org/basic-auth-secret): anyone could read ${ui === 'prometheus' ? 'every metric' : 'and silence the alerts'}`,
        );
      }
    }
    return problems;
  },
};

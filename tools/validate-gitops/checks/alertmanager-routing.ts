import { stringify } from 'yaml';
import { get, type GitopsCheck, type Json } from '../context';
import { alertsOf, monitoringStack } from '../lookups';
import { amtoolOnConfig } from '../tools';

const SECRETS_DIR = '/etc/alertmanager/secrets/';

/** Every value of a key ending in _file anywhere in the config (secrets read from disk). */
function fileRefs(node: Json, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    node.forEach((n) => fileRefs(n, out));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (/_file$/.test(k) && typeof v === 'string') out.push(v);
      else fileRefs(v, out);
    }
  }
  return out;
}

export const alertmanagerRoutingCheck: GitopsCheck = {
  id: 'alertmanager-routing',
  title:
    'the Alertmanager config passes `amtool check-config`, and every alert the apps define routes (amtool config routes test) to a receiver that notifies someone, its secrets mounted from a Secret',
  run(ctx) {
    const stack = monitoringStack(ctx);
    if (!stack) return ['no Application installs the kube-prometheus-stack chart'];
    const config = get(stack.values, 'alertmanager.config');
    if (!config) {
      return [
        'kube-prometheus-stack: alertmanager.config is not set; the chart default routes every alert to the "null" receiver, so no alert reaches anyone',
      ];
    }
    const problems: string[] = [];
    const text = stringify(config);
    const check = amtoolOnConfig(['check-config', '{config}'], text);
    if (!check.ok) {
      problems.push(`alertmanager.config: amtool check-config failed: ${check.output}`);
    }
    const receivers = new Map<string, Json>((config.receivers ?? []).map((r: Json) => [r.name, r]));
    const notifies = (name: string) =>
      Object.keys(receivers.get(name) ?? {}).some(
        (k) => /_configs$/.test(k) && receivers.get(name)[k]?.length,
      );
    if (!notifies(config.route?.receiver)) {
      problems.push(
        `alertmanager.config: the root route's receiver "${config.route?.receiver}" notifies nobody; alerts no route matches would be dropped`,
      );
    }
    for (const d of ctx.deployables) {
      for (const a of alertsOf(d)) {
        const labels = {
          alertname: a.alert,
          namespace: d.app.app.spec?.destination?.namespace,
          ...a.labels,
        };
        const args = [
          'config',
          'routes',
          'test',
          '--config.file={config}',
          ...Object.entries(labels).map(([k, val]) => `${k}=${String(val)}`),
        ];
        const r = amtoolOnConfig(args, text);
        const got = r.stdout.split(/[\s,]+/).filter(Boolean);
        if (!r.ok || !got.length) {
          problems.push(`${d.dir}: alert ${a.alert}: amtool could not route it: ${r.output}`);
        } else if (!got.every(notifies)) {
          problems.push(
            `${d.dir}: alert ${a.alert} (severity ${a.labels?.severity}) routes to ${got.join(', ')}, which notifies nobody`,
          );
        }
      }
    }
    const mounted: string[] = get(stack.values, 'alertmanager.alertmanagerSpec.secrets') ?? [];
    for (const f of fileRefs(config)) {
      const secret = f.startsWith(SECRETS_DIR)
        ? f.slice(SECRETS_DIR.length).split('/')[0]
        : undefined;
      if (!secret || !mounted.includes(secret)) {
        problems.push(
          `alertmanager.config reads ${f}, which is not a file of a Secret listed in alertmanager.alertmanagerSpec.secrets (mounted at ${SECRETS_DIR}<name>/)`,
        );
      }
    }
    return [...new Set(problems)];
  },
};

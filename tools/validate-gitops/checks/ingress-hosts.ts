import { type GitopsCheck } from '../context';
import { allIngresses, ingressController } from '../lookups';
import { get } from '../context';

const MERGEABLE = 'nginx.org/mergeable-ingress-type';

export const ingressHostsCheck: GitopsCheck = {
  id: 'ingress-hosts',
  title:
    'no two Ingresses of one class claim a host (the F5 controller serves one per host unless master/minion mergeable), every host has TLS from cert-manager, plain HTTP redirected',
  run(ctx) {
    const problems: string[] = [];
    const ingresses = allIngresses(ctx);
    const byHost = new Map<string, typeof ingresses>();
    for (const ing of ingresses) {
      for (const host of ing.hosts) {
        const key = `${ing.className ?? ''}/${host}`;
        byHost.set(key, [...(byHost.get(key) ?? []), ing]);
      }
    }
    for (const [key, claims] of byHost) {
      if (claims.length < 2) continue;
      const types = claims.map((c) => c.annotations[MERGEABLE]);
      const mergeable =
        types.filter((t) => t === 'master').length === 1 &&
        types.filter((t) => t === 'minion').length === claims.length - 1 &&
        new Set(claims.map((c) => c.namespace)).size === 1;
      if (!mergeable) {
        problems.push(
          `host ${key.split('/')[1]} (class ${key.split('/')[0]}) is claimed by ${claims.map((c) => c.where).join(' and ')}: the controller serves one ("Host is taken by another resource"), the others get no address and stay Progressing in Argo CD; give each its own host or make them one master and minions (${MERGEABLE})`,
        );
      }
    }
    for (const ing of ingresses) {
      for (const host of ing.hosts) {
        const tls = ing.tls.find((t) => t.hosts.includes(host));
        if (!tls) {
          problems.push(
            `${ing.where}: host ${host} has no tls entry; it would be served over plain HTTP`,
          );
        } else if (!tls.secretName) {
          problems.push(
            `${ing.where}: the tls entry for ${host} names no secretName for the certificate`,
          );
        }
      }
      if (ing.hosts.length && !ing.annotations['cert-manager.io/cluster-issuer']) {
        problems.push(
          `${ing.where}: no cert-manager.io/cluster-issuer annotation; nothing would issue its certificate`,
        );
      }
      for (const key of ['ingress.kubernetes.io/ssl-redirect', 'nginx.org/ssl-redirect']) {
        if (String(ing.annotations[key]).toLowerCase() === 'false') {
          problems.push(
            `${ing.where}: ${key}: "false" serves plain HTTP instead of redirecting it`,
          );
        }
      }
    }
    const entries = get(ingressController(ctx)?.values, 'controller.config.entries') ?? {};
    if (String(entries['ssl-redirect'] ?? 'true').toLowerCase() === 'false') {
      problems.push(
        'nginx-ingress: controller.config.entries ssl-redirect "false" turns off the HTTPS redirect for every host',
      );
    }
    const issuers = ctx.folders.flatMap((f) => f.objects).filter((o) => o.kind === 'ClusterIssuer');
    for (const ing of ingresses) {
      const name = ing.annotations['cert-manager.io/cluster-issuer'];
      if (name && !issuers.some((i) => i.metadata.name === name)) {
        problems.push(
          `${ing.where}: asks for ClusterIssuer ${name}, which no folder under gitops/ defines`,
        );
      }
    }
    return [...new Set(problems)];
  },
};

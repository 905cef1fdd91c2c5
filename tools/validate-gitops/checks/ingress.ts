import { get, type GitopsCheck, type Json } from '../context';
import { envValue, ingressController, ofKind, workloadFor } from '../lookups';
import { nginxSizeBytes, nginxTimeMs } from '../quantities';
import { describe } from '../schema';

export const ingressCheck: GitopsCheck = {
  id: 'ingress',
  title:
    "Ingress: the chosen controller's class and nginx.org annotations, body size above the upload limit, timeouts above the deadline, public paths only",
  run(ctx) {
    const problems: string[] = [];
    const controller = ingressController(ctx);
    const className = get(controller?.values, 'controller.ingressClass.name') ?? 'nginx';
    for (const d of ctx.deployables) {
      for (const ing of ofKind(d.objects, 'Ingress')) {
        const id = `${d.dir}: ${describe(ing)}`;
        const ann: Record<string, string> = ing.metadata.annotations ?? {};
        if (ing.spec?.ingressClassName !== className) {
          problems.push(
            `${id}: ingressClassName "${ing.spec?.ingressClassName ?? ''}" is not the controller's class "${className}"`,
          );
        }
        for (const k of Object.keys(ann)) {
          if (k.startsWith('nginx.ingress.kubernetes.io/')) {
            problems.push(
              `${id}: annotation ${k} belongs to the retired community ingress-nginx; F5 NGINX Ingress Controller ignores it (use nginx.org/*)`,
            );
          }
          if (k === 'kubernetes.io/ingress.class') {
            problems.push(
              `${id}: the kubernetes.io/ingress.class annotation is deprecated; use spec.ingressClassName`,
            );
          }
        }
        for (const rule of ing.spec?.rules ?? []) {
          if (!rule.host) problems.push(`${id}: a rule has no host`);
          for (const p of rule.http?.paths ?? []) {
            const svcName = p.backend?.service?.name;
            const svc = ofKind(d.objects, 'Service').find((s) => s.metadata.name === svcName);
            if (!svc) {
              problems.push(
                `${id}: path ${p.path} routes to Service ${svcName}, which this app does not deploy`,
              );
              continue;
            }
            const port = p.backend.service.port ?? {};
            if (
              !(svc.spec?.ports ?? []).some(
                (sp: Json) => sp.name === port.name || sp.port === port.number,
              )
            ) {
              problems.push(
                `${id}: path ${p.path} uses port ${port.name ?? port.number}, which Service ${svcName} does not expose`,
              );
            }
            const exposes = (internal: string) =>
              p.pathType === 'Exact'
                ? p.path === internal
                : internal === p.path ||
                  internal.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`) ||
                  p.path === '/';
            for (const internal of ['/metrics', '/health/ready']) {
              if (exposes(internal)) {
                problems.push(
                  `${id}: path ${p.path} (${p.pathType}) exposes ${internal} to the internet; route only the public API`,
                );
              }
            }
            const workload = workloadFor(d.objects, svc.spec?.selector);
            const c = workload?.spec?.template?.spec?.containers?.[0];
            if (!c) continue;
            const maxUpload = Number(envValue(c, 'MAX_UPLOAD_BYTES'));
            const deadline = Number(envValue(c, 'REQUEST_TIMEOUT_MS'));
            const body = nginxSizeBytes(ann['nginx.org/client-max-body-size']);
            if (body === undefined) {
              problems.push(
                `${id}: nginx.org/client-max-body-size is missing or unreadable; the controller default (1m) rejects uploads the service accepts`,
              );
            } else if (!(body > maxUpload)) {
              problems.push(
                `${id}: nginx.org/client-max-body-size ${ann['nginx.org/client-max-body-size']} is not above MAX_UPLOAD_BYTES ${maxUpload}; NGINX would answer 413 before the service`,
              );
            }
            for (const key of ['nginx.org/proxy-read-timeout', 'nginx.org/proxy-send-timeout']) {
              const t = nginxTimeMs(ann[key]);
              if (t === undefined) {
                problems.push(`${id}: ${key} is missing or unreadable`);
              } else if (!(t > deadline)) {
                problems.push(
                  `${id}: ${key} ${ann[key]} is not above REQUEST_TIMEOUT_MS ${deadline}ms; NGINX would cut requests the service still answers`,
                );
              }
            }
          }
        }
      }
    }
    return [...new Set(problems)];
  },
};

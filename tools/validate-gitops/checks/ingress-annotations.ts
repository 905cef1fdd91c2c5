import { type GitopsCheck } from '../context';
import { allIngresses } from '../lookups';

const CONTROLLER_PREFIXES = /^(nginx\.org|nginx\.com|ingress\.kubernetes\.io)\//;

export const ingressAnnotationsCheck: GitopsCheck = {
  id: 'ingress-annotations',
  title:
    "every controller annotation on an Ingress (ours and the charts') is one the pinned F5 NGINX Ingress Controller reads, and none needs NGINX Plus",
  run(ctx) {
    const problems: string[] = [];
    const facts = ctx.facts.nginxAnnotations;
    const tag = facts.sources[0].tag;
    const chart = ctx.facts.charts.find((c) => c.chart === 'nginx-ingress');
    if (chart && chart.sources[0].tag !== tag) {
      problems.push(
        `the annotation facts (${tag}) and the nginx-ingress chart facts (${chart.sources[0].tag}) come from different controller releases; re-record them together`,
      );
    }
    for (const ing of allIngresses(ctx)) {
      for (const key of Object.keys(ing.annotations)) {
        if (!CONTROLLER_PREFIXES.test(key)) continue;
        if (!facts.annotations.includes(key)) {
          problems.push(
            `${ing.where}: annotation ${key} is not read by the F5 NGINX Ingress Controller ${tag} (nginx/kubernetes-ingress internal/); it would be ignored`,
          );
        } else if (facts.plusOnly.includes(key)) {
          problems.push(`${ing.where}: annotation ${key} works only with NGINX Plus`);
        }
      }
    }
    return problems;
  },
};

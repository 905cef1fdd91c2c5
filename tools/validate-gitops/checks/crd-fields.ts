import { chartReads } from '../../validate-common/upstream-facts';
import { type GitopsCheck, type Json } from '../context';

/** Dotted field paths of an object, arrays descended as "[]". */
function fieldPaths(node: Json, at: string, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    node.forEach((item) => fieldPaths(item, `${at}[]`, out));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      out.push(`${at}.${k}`);
      fieldPaths(v, `${at}.${k}`, out);
    }
  }
  return out;
}

export const crdFieldsCheck: GitopsCheck = {
  id: 'crd-fields',
  title:
    'every Argo CD Application/AppProject and cert-manager ClusterIssuer field exists in the CRDs of the pinned release',
  run(ctx) {
    const problems = new Set<string>();
    for (const f of ctx.folders) {
      for (const o of f.objects as Json[]) {
        const crd = ctx.facts.crds.find((c) => c.kind === o.kind && c.apiVersion === o.apiVersion);
        if (!crd) continue;
        for (const p of fieldPaths(o.spec, 'spec')) {
          if (!chartReads(crd, p)) {
            problems.add(
              `${f.dir}: ${o.kind} ${o.metadata.name}: field "${p}" is not in the ${o.kind} CRD of ${crd.from}`,
            );
          }
        }
      }
    }
    return [...problems];
  },
};

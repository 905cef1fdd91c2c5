import { type GitopsCheck } from '../context';
import { type K8sObject } from '../render';
import { findUnknownFields, modelModule, validateWithModels } from '../schema';

export const schemaCheck: GitopsCheck = {
  id: 'schema',
  title:
    'every rendered object matches its schema (Kubernetes, Argo CD and prometheus-operator CRDs), unknown fields rejected',
  run(ctx) {
    const seen = new Set<string>();
    const objects: K8sObject[] = [];
    const add = (o: K8sObject) => {
      const key = JSON.stringify(o);
      if (seen.has(key)) return;
      seen.add(key);
      objects.push(o);
    };
    ctx.folders.forEach((f) => f.objects.forEach(add));
    // Kinds no model package covers (cert-manager's) are checked by crd-fields against the
    // pinned release's own CRDs instead.
    const covered = (o: K8sObject) =>
      !modelModule(o.apiVersion, o.kind) &&
      ctx.facts.crds.some((c) => c.kind === o.kind && c.apiVersion === o.apiVersion);
    objects.splice(0, objects.length, ...objects.filter((o) => !covered(o)));
    return [...objects.flatMap(validateWithModels), ...findUnknownFields(objects)];
  },
};

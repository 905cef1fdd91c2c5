import { type GitopsCheck } from '../context';
import { type K8sObject } from '../render';
import { findUnknownFields, validateWithModels } from '../schema';

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
    // Patches cut with a remote base are full objects too; check them on their own.
    ctx.folders.forEach((f) => f.droppedPatches.forEach((p) => p.objects.forEach(add)));
    return [...objects.flatMap(validateWithModels), ...findUnknownFields(objects)];
  },
};

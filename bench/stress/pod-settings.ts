/**
 * The production pod's settings, read from the Deployment the cluster runs
 * (gitops/apps/caption-service/base/deployment.yaml): its environment, CPU and memory limits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../settings';

export const DEPLOYMENT = join('gitops', 'apps', 'caption-service', 'base', 'deployment.yaml');

export interface PodSettings {
  /** The container's environment, resourceFieldRef values resolved against its limits. */
  environment: Record<string, string>;
  cpuLimit: number;
  memoryLimitBytes: number;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { resourceFieldRef?: { resource: string; divisor?: string } };
}

interface Container {
  name: string;
  env?: EnvVar[];
  resources?: { limits?: { cpu?: string; memory?: string } };
}

/** Kubernetes quantities: "2", "500m" CPU; "2Gi", "512Mi", "1G" memory. */
export function quantity(text: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(text.trim());
  if (!m) throw new Error(`not a Kubernetes quantity: ${text}`);
  const units: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  const unit = units[m[2]];
  if (unit === undefined) throw new Error(`unknown quantity unit in ${text}`);
  return Number(m[1]) * unit;
}

export function readPodSettings(path = join(ROOT, DEPLOYMENT)): PodSettings {
  const doc = parse(readFileSync(path, 'utf8')) as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  const container = doc.spec.template.spec.containers.find((c) => c.name === 'caption-service');
  if (!container) throw new Error(`${path}: no caption-service container`);
  const limits = container.resources?.limits ?? {};
  if (!limits.cpu || !limits.memory) {
    throw new Error(`${path}: the container sets no CPU/memory limit`);
  }
  const cpuLimit = quantity(limits.cpu);
  const memoryLimitBytes = quantity(limits.memory);
  const environment: Record<string, string> = {};
  for (const v of container.env ?? []) {
    const ref = v.valueFrom?.resourceFieldRef;
    if (v.value !== undefined) {
      environment[v.name] = v.value;
    } else if (ref?.resource === 'limits.cpu') {
      // The kubelet rounds up to whole units of the divisor.
      environment[v.name] = String(Math.ceil(cpuLimit / quantity(ref.divisor ?? '1')));
    } else if (ref?.resource === 'limits.memory') {
      environment[v.name] = String(Math.ceil(memoryLimitBytes / quantity(ref.divisor ?? '1')));
    } else {
      throw new Error(`${path}: cannot resolve env ${v.name}`);
    }
  }
  return { environment, cpuLimit, memoryLimitBytes };
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantity, readPodSettings } from './pod-settings';

describe('quantity', () => {
  it('reads Kubernetes CPU and memory quantities', () => {
    expect(quantity('2')).toBe(2);
    expect(quantity('500m')).toBe(0.5);
    expect(quantity('2Gi')).toBe(2 * 2 ** 30);
    expect(quantity('512Mi')).toBe(512 * 2 ** 20);
    expect(quantity('1G')).toBe(1e9);
    expect(() => quantity('2 GiB')).toThrow(/quantity/);
    expect(() => quantity('2Qi')).toThrow(/unit/);
  });
});

describe('readPodSettings', () => {
  it("reads the Deployment's limits and environment, resolving the CPU limit reference", () => {
    const pod = readPodSettings();
    expect(pod.memoryLimitBytes).toBe(quantity('2Gi'));
    expect(pod.cpuLimit).toBe(2);
    expect(pod.environment.ENGINE_THREADS).toBe('2');
    expect(pod.environment.REQUEST_TIMEOUT_MS).toMatch(/^\d+$/);
  });

  it('rounds a fractional CPU limit up, as the kubelet does, and refuses what it cannot resolve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pod-'));
    const write = (env: string) => {
      const path = join(dir, 'deployment.yaml');
      writeFileSync(
        path,
        `spec:\n  template:\n    spec:\n      containers:\n        - name: caption-service\n` +
          `          env:\n${env}          resources:\n            limits: { cpu: 1500m, memory: 1Gi }\n`,
      );
      return path;
    };
    const threads =
      '            - name: ENGINE_THREADS\n' +
      '              valueFrom: { resourceFieldRef: { resource: limits.cpu, divisor: "1" } }\n';
    expect(readPodSettings(write(threads)).environment.ENGINE_THREADS).toBe('2');
    const secret =
      '            - name: TOKEN\n              valueFrom: { secretKeyRef: { name: x, key: y } }\n';
    expect(() => readPodSettings(write(secret))).toThrow(/TOKEN/);
  });
});

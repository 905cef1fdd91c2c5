import { type GitopsCheck, type Json } from '../context';
import { containersOf, envValue } from '../lookups';
import { cpuCores, memoryBytes } from '../quantities';

export const workloadResourcesCheck: GitopsCheck = {
  id: 'workload-resources',
  title:
    'containers: CPU and memory requests and limits, CPU requests = limits in whole cores, engine threads taken from the limit',
  run(ctx) {
    const problems: string[] = [];
    for (const { id, container: c } of containersOf(ctx)) {
      const req = c.resources?.requests ?? {};
      const lim = c.resources?.limits ?? {};
      for (const r of ['cpu', 'memory']) {
        if (req[r] === undefined) problems.push(`${id}: resources.requests.${r} is not set`);
        if (lim[r] === undefined) problems.push(`${id}: resources.limits.${r} is not set`);
      }
      const cpuReq = cpuCores(req.cpu);
      const cpuLim = cpuCores(lim.cpu);
      if (cpuReq !== undefined && cpuLim !== undefined && cpuReq !== cpuLim) {
        problems.push(
          `${id}: CPU request ${req.cpu} differs from limit ${lim.cpu}; inference is CPU-bound, so they must be equal`,
        );
      }
      const memReq = memoryBytes(req.memory);
      const memLim = memoryBytes(lim.memory);
      if (memReq !== undefined && memLim !== undefined && memReq > memLim) {
        problems.push(`${id}: memory request above its limit`);
      }
      // Engine threads follow the CPU limit. The service counts floor(CPU quota) cores and
      // refuses to start when ENGINE_WORKERS x ENGINE_THREADS exceeds them, while a
      // resourceFieldRef on limits.cpu rounds up: the two agree only on whole cores.
      const threads = (c.env ?? []).find((e: Json) => e.name === 'ENGINE_THREADS');
      const workers = Number(envValue(c, 'ENGINE_WORKERS') ?? 1);
      const budget = cpuLim !== undefined ? Math.max(1, Math.floor(cpuLim)) : undefined;
      if (!threads) {
        problems.push(
          `${id}: ENGINE_THREADS is not set; derive it from the CPU limit (valueFrom.resourceFieldRef limits.cpu)`,
        );
      } else if (threads.valueFrom?.resourceFieldRef) {
        const ref = threads.valueFrom.resourceFieldRef;
        if (
          ref.resource !== 'limits.cpu' ||
          (ref.containerName && ref.containerName !== c.name) ||
          (ref.divisor !== undefined && String(ref.divisor) !== '1')
        ) {
          problems.push(
            `${id}: ENGINE_THREADS must come from this container's limits.cpu with divisor 1`,
          );
        }
        if (cpuLim !== undefined && !Number.isInteger(cpuLim)) {
          problems.push(
            `${id}: CPU limit ${lim.cpu} is not a whole number of cores: ENGINE_THREADS becomes ${Math.ceil(cpuLim)} (rounded up) but the service's CPU budget is ${budget}, so it refuses to start`,
          );
        } else if (budget !== undefined && workers * budget > budget) {
          problems.push(
            `${id}: ENGINE_WORKERS=${workers} x ENGINE_THREADS=${budget} oversubscribes ${lim.cpu} CPU; the service refuses to start`,
          );
        }
      } else if (budget !== undefined) {
        const n = Number(threads.value);
        if (!Number.isInteger(n) || n < 1 || workers * n > budget) {
          problems.push(
            `${id}: ENGINE_WORKERS=${workers} x ENGINE_THREADS=${threads.value} does not fit the CPU limit ${lim.cpu} (${budget} whole cores); the service refuses to start`,
          );
        }
      }
    }
    return problems;
  },
};

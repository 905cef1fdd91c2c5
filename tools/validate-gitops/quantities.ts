// Kubernetes and NGINX quantities as numbers, for the checks that compare them.

/** Kubernetes CPU quantity in cores. */
export function cpuCores(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** Kubernetes memory quantity in bytes. */
export function memoryBytes(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

/** NGINX size ("25m", "1g", "512k", bytes without suffix). */
export function nginxSizeBytes(v: unknown): number | undefined {
  const m = /^(\d+)([kKmMgG]?)$/.exec(String(v ?? '').trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Number(m[1]) * mult[m[2].toLowerCase()];
}

/** NGINX time ("30s", "1m", "500ms", seconds without suffix). */
export function nginxTimeMs(v: unknown): number | undefined {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(String(v ?? '').trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Number(m[1]) * mult[m[2] ?? 's'];
}

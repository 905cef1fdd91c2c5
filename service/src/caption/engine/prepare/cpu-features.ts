import { readFileSync } from 'node:fs';

let vnni: boolean | undefined;

/** VNNI computes uint8 x int8 products without the int16 saturation of older AVX2 kernels. */
export function cpuHasVnni(): boolean {
  if (vnni === undefined) {
    try {
      const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
      vnni = /\b(avx512_vnni|avx_vnni)\b/.test(flags);
    } catch {
      vnni = false;
    }
  }
  return vnni;
}

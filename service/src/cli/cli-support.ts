import { join } from 'node:path';
import { ModelDtype } from '../caption/engine/model/model-spec';
import { prepareModel } from '../caption/engine/prepare/model-preparer';

export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

export function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

export function dtypesFrom(value: string): ModelDtype[] {
  if (value === 'all') return ['fp32', 'q8'];
  if (value === 'fp32' || value === 'q8') return [value];
  fail(`--dtype must be fp32, q8 or all (got ${value})`);
}

export async function prepareAll(dir: string, dtypes: ModelDtype[]): Promise<void> {
  for (const dtype of dtypes) {
    say(`preparing ${dtype} graphs`);
    const prepared = await prepareModel(dir, dtype, join(dir, 'optimized', dtype), say);
    say(
      `${dtype}: ${prepared.oncePath}, ${prepared.stepPath} (fingerprint ${prepared.manifest.fingerprint.slice(0, 12)})`,
    );
  }
}

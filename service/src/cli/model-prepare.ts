/**
 * npm run model:prepare -- --dir <folder> [--dtype fp32|q8|all]
 * For a model folder already on disk (no network): checks the files, builds the optimized graphs
 * into <folder>/optimized/<dtype>/ and verifies them against the stock decoder.
 */
import { parseArgs } from 'node:util';
import { missingFiles, requiredFiles } from '../caption/engine/model/model-store';
import { dtypesFrom, fail, prepareAll, say } from './cli-support';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, dtype: { type: 'string' } } });
  if (!values.dir) {
    fail('usage: npm run model:prepare -- --dir <model folder> [--dtype fp32|q8|all]');
  }
  const dtypes = dtypesFrom(values.dtype ?? process.env.MODEL_DTYPE ?? 'q8');
  const missing = missingFiles(values.dir, requiredFiles(dtypes));
  if (missing.length) fail(`${values.dir} lacks ${missing.join(', ')}`);
  await prepareAll(values.dir, dtypes);
  say(`done: MODEL_DIR=${values.dir}`);
}

main().catch((error: Error) => fail(error.message));

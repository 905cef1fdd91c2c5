/**
 * npm run model:pull [-- --dir <folder>] [--dtype fp32|q8|all]
 * Downloads MODEL_ID at the pinned MODEL_REVISION from the hub (MODEL_HUB_URL), checks every file
 * (commit, size, sha256 of large files), then prepares the optimized graphs beside them.
 * Without --dir the files go to the cache the service reads (MODEL_CACHE_DIR).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/app-config';
import { downloadModel } from '../caption/engine/model/model-download';
import { cachedModelDir, requiredFiles } from '../caption/engine/model/model-store';
import { ModelDtype } from '../caption/engine/model/model-spec';
import { prepareAll, dtypesFrom, fail, say } from './cli-support';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, dtype: { type: 'string' } } });
  const config = loadConfig();
  const dtypes: ModelDtype[] = dtypesFrom(values.dtype ?? config.model.dtype);
  const revision = config.model.revision;
  if (!revision) {
    fail(
      `MODEL_REVISION must be set to the commit of ${config.model.id} to pull (a branch such as main can move)`,
    );
  }
  const dir = values.dir ?? cachedModelDir(config.model.cacheDir, config.model.id, revision);
  say(
    `pulling ${config.model.id}@${revision} (${dtypes.join(', ')}) from ${config.model.hubUrl} into ${dir}`,
  );
  await downloadModel(
    { modelId: config.model.id, revision, hubUrl: config.model.hubUrl },
    dir,
    requiredFiles(dtypes),
    say,
  );
  await prepareAll(dir, dtypes);
  say(`done: MODEL_DIR=${dir}`);
}

main().catch((error: Error) => fail(error.message));

// `npm run validate:gitops`: renders every kustomization under gitops/ and runs the offline
// checks in checks/ (one per file). The command line, report and exit codes are the shared
// ones of tools/validate-common/check-runner.ts:
//
//   npm run validate:gitops -- [--root <repo>] [--only id,id] [--list] [--metrics-file <GET /metrics dump>]
//
// --metrics-file checks the dashboard and alert queries against a real exposition (e.g. the
// booted service's /metrics in an e2e test) instead of tools/validate-gitops/fixtures/contract-metrics.prom.
import * as path from 'node:path';
import {
  mainValidator,
  passed,
  runChecks,
  selectChecks,
  type CheckOutcome,
  type ValidatorCli,
} from '../validate-common/check-runner';
import { CHECKS } from './checks';
import { buildContext, type Context } from './context';
import { loadGitopsFacts } from './upstream';

export { checkQueriedMetricsExist, exposedMetrics, queriedMetrics } from './promql';
export { CHECKS } from './checks';

export interface ValidateOptions {
  root: string;
  /** A GET /metrics dump to check dashboard and alert queries against (default: the contract fixture). */
  metricsFile?: string;
  /** The same, as text (e.g. fetched from the booted app in an e2e test); wins over metricsFile. */
  metricsText?: string;
  /** Run only these check ids (all when empty). */
  only?: string[];
  /** Upstream facts folder (default tools/validate-gitops/upstream; specs plant mistakes in a copy). */
  factsDir?: string;
}

function contextFor(opts: ValidateOptions): Promise<Context> {
  return buildContext(
    path.resolve(opts.root),
    opts.metricsText !== undefined
      ? { text: opts.metricsText, label: 'metricsText' }
      : opts.metricsFile
        ? { file: path.resolve(opts.metricsFile) }
        : undefined,
    undefined,
    opts.factsDir ? loadGitopsFacts(opts.factsDir) : undefined,
  );
}

export async function validateGitops(
  opts: ValidateOptions,
): Promise<{ outcomes: CheckOutcome[]; ok: boolean; context: Context }> {
  selectChecks(CHECKS, opts.only);
  const context = await contextFor(opts);
  const outcomes = await runChecks(CHECKS, context, opts.only);
  return { outcomes, ok: passed(outcomes), context };
}

/** What the report says before the checks: which kustomize, which metrics, what was cut. */
function notes(context: Context): string[] {
  const out = [
    `kustomize: ${context.kustomize.describe}; metrics: ${path.relative(process.cwd(), context.expositionSource)}`,
  ];
  for (const f of context.folders) {
    for (const [url, standIn] of Object.entries(f.standIns)) {
      out.push(`note: ${f.dir} built offline with ${standIn} standing in for ${url}`);
    }
  }
  return out;
}

export const GITOPS_CLI: ValidatorCli<Context> = {
  name: 'validate:gitops',
  checks: CHECKS,
  extraOptions: ['--metrics-file'],
  async prepare(opts) {
    const ctx = await contextFor({ root: opts.root, metricsFile: opts.extra['metrics-file'] });
    return { ctx, notes: notes(ctx) };
  },
};

if (require.main === module) mainValidator(GITOPS_CLI);

// `npm run validate:gitops`: renders every kustomization under gitops/ and runs the offline
// checks in checks.ts. Exits non-zero when any check fails.
//
//   npm run validate:gitops -- [--root <repo>] [--metrics-file <GET /metrics dump>] [--only id,id]
//
// --metrics-file checks the dashboard and alert queries against a real exposition (e.g. the
// booted service's /metrics in an e2e test) instead of tools/validate-gitops/fixtures/contract-metrics.prom.
import * as path from 'node:path';
import { CHECKS } from './checks';
import { buildContext, type Context } from './context';

export { checkQueriedMetricsExist, exposedMetrics, queriedMetrics } from './promql';
export { CHECKS } from './checks';

export interface CheckOutcome {
  id: string;
  title: string;
  problems: string[];
}

export interface ValidateOptions {
  root: string;
  /** A GET /metrics dump to check dashboard and alert queries against (default: the contract fixture). */
  metricsFile?: string;
  /** The same, as text (e.g. fetched from the booted app in an e2e test); wins over metricsFile. */
  metricsText?: string;
  /** Run only these check ids (all when empty). */
  only?: string[];
}

export async function validateGitops(
  opts: ValidateOptions,
): Promise<{ outcomes: CheckOutcome[]; ok: boolean; context: Context }> {
  const context = await buildContext(
    path.resolve(opts.root),
    opts.metricsText !== undefined
      ? { text: opts.metricsText, label: 'metricsText' }
      : opts.metricsFile
        ? { file: path.resolve(opts.metricsFile) }
        : undefined,
  );
  const outcomes: CheckOutcome[] = [];
  for (const check of CHECKS) {
    if (opts.only?.length && !opts.only.includes(check.id)) continue;
    let problems: string[];
    try {
      problems = await check.run(context);
    } catch (e) {
      // A check that cannot run (promtool missing, ...) fails rather than passing quietly.
      problems = [`check could not run: ${(e as Error).message}`];
    }
    outcomes.push({ id: check.id, title: check.title, problems });
  }
  return { outcomes, ok: outcomes.every((o) => !o.problems.length), context };
}

function parseArgs(argv: string[]): ValidateOptions {
  const opts: ValidateOptions = { root: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--root') opts.root = value();
    else if (arg === '--metrics-file') opts.metricsFile = value();
    else if (arg === '--only') opts.only = value().split(',');
    else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { outcomes, ok, context } = await validateGitops(opts);
  console.log(
    `kustomize: ${context.kustomize.describe}; metrics: ${path.relative(process.cwd(), context.expositionSource)}`,
  );
  for (const f of context.folders) {
    if (f.remoteResources.length) {
      console.log(
        `note: ${f.dir} built offline without ${f.remoteResources.join(', ')} (fetched only by a real apply)`,
      );
    }
  }
  for (const o of outcomes) {
    console.log(`${o.problems.length ? 'FAIL' : 'ok  '} ${o.id}: ${o.title}`);
    for (const p of o.problems) console.log(`       - ${p.replace(/\n/g, '\n         ')}`);
  }
  const failed = outcomes.filter((o) => o.problems.length).length;
  console.log(
    `gitops checks: ${outcomes.length - failed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );
  return ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`validate:gitops: ${(e as Error).message}`);
      process.exit(2);
    },
  );
}

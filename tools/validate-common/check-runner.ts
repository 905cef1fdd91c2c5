// The one Check type, runner, report and command line behind `npm run validate:gitops` and
// `npm run validate:infra`, so both speak the same words: a check finds "problems" (an empty
// list is a pass), a check that throws has "crashed" and counts as failed, `--list` names the
// checks, `--only id,id` runs some of them, and the exit code is 0 (all passed), 1 (a check
// failed or crashed) or 2 (the validator itself could not start: bad arguments, no tool).
// Written by hand: the runner is forty lines, and a test framework's runner would hide the
// per-check problem lists the planted-mistake specs assert on.
import * as path from 'node:path';

export interface Check<C> {
  /** Stable id for --only and the specs (kebab-case). */
  id: string;
  /** One line saying what passing means. */
  title: string;
  /** The problems found, as readable messages; an empty list is a pass. */
  run(ctx: C): string[] | Promise<string[]>;
}

export interface CheckOutcome {
  id: string;
  title: string;
  problems: string[];
  /** The check threw instead of returning problems (its message is the one problem). */
  crashed: boolean;
  ms: number;
}

/** The checks `only` names (all when empty); an unknown id is an error, not a silent no-op. */
export function selectChecks<C>(checks: readonly Check<C>[], only?: readonly string[]): Check<C>[] {
  if (!only?.length) return [...checks];
  const unknown = only.filter((id) => !checks.some((c) => c.id === id));
  if (unknown.length) {
    throw new UsageError(
      `unknown check(s): ${unknown.join(', ')} (known: ${checks.map((c) => c.id).join(', ')})`,
    );
  }
  return checks.filter((c) => only.includes(c.id));
}

/** Runs the checks one after the other; a check that throws is reported as crashed. */
export async function runChecks<C>(
  checks: readonly Check<C>[],
  ctx: C,
  only?: readonly string[],
): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const check of selectChecks(checks, only)) {
    const started = Date.now();
    let problems: string[];
    let crashed = false;
    try {
      problems = await check.run(ctx);
    } catch (e) {
      // A check that cannot run (a tool missing, a file unreadable) fails rather than passing.
      crashed = true;
      problems = [`check crashed: ${(e as Error).message}`];
    }
    outcomes.push({
      id: check.id,
      title: check.title,
      problems,
      crashed,
      ms: Date.now() - started,
    });
  }
  return outcomes;
}

export const passed = (outcomes: readonly CheckOutcome[]): boolean =>
  outcomes.every((o) => !o.problems.length);

/** The report both validators print: one line per check, its problems indented below. */
export function formatReport(
  name: string,
  outcomes: readonly CheckOutcome[],
  elapsedMs: number,
): string {
  const out: string[] = [];
  for (const o of outcomes) {
    const status = o.problems.length ? 'FAIL' : 'ok  ';
    out.push(`${status} ${o.id}: ${o.title} (${(o.ms / 1000).toFixed(1)}s)`);
    for (const p of o.problems) out.push(`       - ${p.replace(/\n/g, '\n         ')}`);
  }
  const failed = outcomes.filter((o) => o.problems.length).length;
  const crashed = outcomes.filter((o) => o.crashed).length;
  // The closing line alone, in the "N passed, N failed" shape CI logs are read for.
  out.push(
    `${name} took ${(elapsedMs / 1000).toFixed(1)}s${crashed ? `; ${crashed} check(s) crashed` : ''}`,
  );
  out.push(`${name}: ${outcomes.length - failed} passed, ${failed} failed`);
  return out.join('\n');
}

/** A mistake in how the validator was called (exit 2, no report). */
export class UsageError extends Error {}

export interface CliOptions {
  root: string;
  only?: string[];
  list: boolean;
  /** Validator-specific options given as `--name value`. */
  extra: Record<string, string>;
}

export function parseCliArgs(
  argv: readonly string[],
  extraOptions: readonly string[] = [],
  defaultRoot = process.cwd(),
): CliOptions {
  const opts: CliOptions = { root: defaultRoot, list: false, extra: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--list') {
      opts.list = true;
    } else if (arg === '--root') {
      opts.root = path.resolve(value());
    } else if (arg === '--only') {
      opts.only = value().split(',').filter(Boolean);
    } else if (extraOptions.includes(arg)) {
      opts.extra[arg.slice(2)] = value();
    } else {
      throw new UsageError(
        `unknown argument ${arg} (options: --root DIR, --only id,id, --list${extraOptions.map((o) => `, ${o} VALUE`).join('')})`,
      );
    }
  }
  return opts;
}

export interface ValidatorCli<C> {
  /** As the report names it, e.g. "validate:gitops". */
  name: string;
  checks: readonly Check<C>[];
  /** `--name value` options this validator takes besides --root/--only/--list. */
  extraOptions?: readonly string[];
  defaultRoot?: string;
  /** Gathers what the checks look at; lines it returns are printed before the report. */
  prepare(opts: CliOptions): Promise<{ ctx: C; notes?: string[] }>;
}

/** The whole command: arguments, --list, context, checks, report, exit code. */
export async function runValidatorCli<C>(
  cli: ValidatorCli<C>,
  argv: readonly string[],
  log: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  const opts = parseCliArgs(argv, cli.extraOptions, cli.defaultRoot);
  if (opts.list) {
    const width = Math.max(...cli.checks.map((c) => c.id.length));
    for (const c of cli.checks) log(`${c.id.padEnd(width)}  ${c.title}`);
    return 0;
  }
  selectChecks(cli.checks, opts.only); // unknown ids fail before the (slow) preparation
  const started = Date.now();
  const { ctx, notes = [] } = await cli.prepare(opts);
  notes.forEach((n) => log(n));
  const outcomes = await runChecks(cli.checks, ctx, opts.only);
  log(formatReport(cli.name, outcomes, Date.now() - started));
  return passed(outcomes) ? 0 : 1;
}

/** Entry point for a validator script: exit 2 with one line when it cannot start at all. */
export function mainValidator<C>(cli: ValidatorCli<C>): void {
  runValidatorCli(cli, process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`${cli.name}: ${(e as Error).message}`);
      process.exit(2);
    },
  );
}

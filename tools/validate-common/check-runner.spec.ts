import {
  formatReport,
  parseCliArgs,
  runChecks,
  runValidatorCli,
  UsageError,
  type Check,
  type ValidatorCli,
} from './check-runner';

const checks: Check<{ n: number }>[] = [
  { id: 'positive', title: 'n is positive', run: (c) => (c.n > 0 ? [] : [`n is ${c.n}`]) },
  {
    id: 'even',
    title: 'n is even',
    run: (c) => Promise.resolve(c.n % 2 ? [`${c.n} is odd`] : []),
  },
  {
    id: 'explodes',
    title: 'throws on 3',
    run: (c) => {
      if (c.n === 3) throw new Error('boom');
      return [];
    },
  },
];

describe('runChecks', () => {
  it('returns each check with its problems, and a throwing check as crashed (a failure)', async () => {
    const outcomes = await runChecks(checks, { n: 3 });
    expect(outcomes.map(({ id, problems, crashed }) => ({ id, problems, crashed }))).toEqual([
      { id: 'positive', problems: [], crashed: false },
      { id: 'even', problems: ['3 is odd'], crashed: false },
      { id: 'explodes', problems: ['check crashed: boom'], crashed: true },
    ]);
  });

  it('runs only the named checks, and refuses an unknown id instead of running nothing', async () => {
    expect((await runChecks(checks, { n: 2 }, ['even'])).map((o) => o.id)).toEqual(['even']);
    await expect(runChecks(checks, { n: 2 }, ['evn'])).rejects.toThrow(
      /unknown check\(s\): evn \(known: positive, even, explodes\)/,
    );
  });
});

describe('formatReport', () => {
  it('prints ok/FAIL per check, the problems indented, and a closing passed/failed line', async () => {
    const report = formatReport('validate:x', await runChecks(checks, { n: -3 }), 1234);
    expect(report.split('\n')).toEqual([
      expect.stringMatching(/^FAIL positive: n is positive \(\d\.\ds\)$/),
      '       - n is -3',
      expect.stringMatching(/^FAIL even: n is even/),
      '       - -3 is odd',
      expect.stringMatching(/^ok {3}explodes: throws on 3/),
      'validate:x took 1.2s',
      'validate:x: 1 passed, 2 failed',
    ]);
  });
});

describe('the validator command line', () => {
  const prepared: number[] = [];
  const cli: ValidatorCli<{ n: number }> = {
    name: 'validate:x',
    checks,
    extraOptions: ['--n'],
    prepare: (opts) => {
      const n = Number(opts.extra.n ?? 2);
      prepared.push(n);
      return Promise.resolve({ ctx: { n }, notes: [`n = ${n}`] });
    },
  };
  const run = async (argv: string[]) => {
    const lines: string[] = [];
    const code = await runValidatorCli(cli, argv, (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  };

  it('exits 0 when every check passes, 1 when one fails or crashes', async () => {
    const ok = await run(['--n', '2']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^n = 2\n[^]*\nvalidate:x: 3 passed, 0 failed$/);
    expect((await run(['--n', '4', '--only', 'even'])).code).toBe(0);
    expect((await run(['--n', '5', '--only', 'even'])).code).toBe(1);
    const crash = await run(['--n', '3', '--only', 'explodes']);
    expect(crash.code).toBe(1);
    expect(crash.out).toMatch(
      /FAIL explodes[^]*check crashed: boom[^]*1 check\(s\) crashed\nvalidate:x: 0 passed, 1 failed$/,
    );
  });

  it('--list names every check without preparing anything', async () => {
    prepared.length = 0;
    const { code, out } = await run(['--list']);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      'positive  n is positive',
      'even      n is even',
      'explodes  throws on 3',
    ]);
    expect(prepared).toEqual([]);
  });

  it('refuses unknown arguments and unknown check ids before preparing', async () => {
    prepared.length = 0;
    await expect(run(['--olny', 'even'])).rejects.toThrow(UsageError);
    await expect(run(['--only', 'nope'])).rejects.toThrow(/unknown check\(s\): nope/);
    await expect(run(['--only'])).rejects.toThrow(/--only needs a value/);
    expect(prepared).toEqual([]);
  });

  it('resolves --root and keeps validator options apart', () => {
    expect(parseCliArgs(['--root', '/tmp/x/../y', '--n', '5'], ['--n'])).toEqual({
      root: '/tmp/y',
      list: false,
      extra: { n: '5' },
    });
  });
});

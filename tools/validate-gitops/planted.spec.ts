// Each check of `npm run validate:gitops` shown failing: copy the real gitops/ tree, plant
// one realistic mistake, run the whole validator, and assert that exactly the expected
// check(s) fail with a message that points at the mistake.
import { ScratchTree } from './helpers.spec-util';
import { validateGitops } from './validate';

import { ALERTS_CASES } from './planted/alerts.cases';
import { ARGOCD_CASES } from './planted/argocd.cases';
import { MONITORING_CASES } from './planted/monitoring.cases';
import { WORKLOADS_CASES } from './planted/workloads.cases';
import type { Planted } from './planted/planted';

const cases: Planted[] = [
  ...ARGOCD_CASES,
  ...WORKLOADS_CASES,
  ...MONITORING_CASES,
  ...ALERTS_CASES,
];

describe('validate:gitops fails on planted mistakes', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const tree = new ScratchTree();
    try {
      c.plant(tree);
      const { outcomes } = await validateGitops({ root: tree.root, factsDir: tree.factsDir });
      const failing = outcomes.filter((o) => o.problems.length);
      expect(failing.map((o) => o.id).sort()).toEqual([...c.fails].sort());
      const messages = failing.flatMap((o) => o.problems);
      // On a miss, show what the validator did say.
      expect(messages.find((m) => c.message.test(m)) ?? messages).toEqual(
        expect.stringMatching(c.message),
      );
    } finally {
      tree.remove();
    }
  });

  it('plants a mistake for every check', () => {
    const { CHECKS } = jest.requireActual('./checks') as typeof import('./checks');
    const covered = new Set(cases.flatMap((c) => c.fails));
    expect(CHECKS.map((c) => c.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});

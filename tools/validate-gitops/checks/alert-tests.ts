import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { type GitopsCheck } from '../context';
import { alertsOf, rulesOf } from '../lookups';
import { promtoolOnFiles } from '../tools';

export const alertTestsCheck: GitopsCheck = {
  id: 'alert-tests',
  title: '`promtool test rules` passes on the rendered rules, with a firing test for every alert',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      const rules = rulesOf(d);
      if (!rules.length) continue;
      const appDir = d.dir.replace(/\/overlays\/[^/]+$/, '');
      const testRel = `${appDir}/tests/alerts.test.yaml`;
      const testText = ctx.readRepoFile(testRel);
      if (!testText) {
        problems.push(`${d.dir}: no promtool unit tests at ${testRel}`);
        continue;
      }
      const tests = parse(testText) ?? {};
      const ruleFiles: string[] = tests.rule_files ?? [];
      if (ruleFiles.length !== 1 || ruleFiles[0].includes('/')) {
        problems.push(
          `${testRel}: rule_files must name exactly one file beside the test, which the validator fills with the rendered rules`,
        );
        continue;
      }
      const r = promtoolOnFiles(['test', 'rules', 'alerts.test.yaml'], {
        [path.basename(ruleFiles[0])]: stringify({ groups: rules.flatMap((x) => x.groups) }),
        'alerts.test.yaml': testText,
      });
      if (!r.ok) problems.push(`${d.dir}: promtool test rules ${testRel} failed:\n${r.output}`);
      const tested = new Set<string>();
      for (const t of tests.tests ?? []) {
        for (const a of t.alert_rule_test ?? []) if (a.exp_alerts?.length) tested.add(a.alertname);
      }
      for (const a of alertsOf(d)) {
        if (!tested.has(a.alert)) {
          problems.push(
            `${d.dir}: alert ${a.alert} has no unit test in ${testRel} that expects it to fire`,
          );
        }
      }
    }
    return [...new Set(problems)];
  },
};

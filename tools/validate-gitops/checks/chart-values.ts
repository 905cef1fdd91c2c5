import { chartReads, setPaths } from '../../validate-common/upstream-facts';
import { type GitopsCheck } from '../context';

export const chartValuesCheck: GitopsCheck = {
  id: 'chart-values',
  title:
    'every Helm value the platform sets is a key the pinned chart (and its subcharts) reads, per the values recorded upstream',
  run(ctx) {
    const problems: string[] = [];
    for (const r of ctx.helmReleases) {
      const facts = ctx.facts.charts.find((c) => c.chart === r.chart);
      if (!facts) continue; // upstream-pins reports it
      const tag = facts.sources.map((s) => `${s.repository}@${s.tag}`).join(', ');
      for (const key of setPaths(r.values)) {
        if (!chartReads(facts, key)) {
          problems.push(
            `Application ${r.app.app.metadata.name}: ${r.chart} ${facts.version} has no value "${key}" (${tag}); the chart would ignore it`,
          );
        }
      }
    }
    return problems;
  },
};

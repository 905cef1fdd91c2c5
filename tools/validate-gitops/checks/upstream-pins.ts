import { newestPatch } from '../../validate-common/upstream-facts';
import { type GitopsCheck } from '../context';
import { sameVersion } from '../upstream';

const ARGO_CD_INSTALL = /github(?:usercontent)?\.com\/argoproj\/argo-cd\/(v\d+\.\d+\.\d+)\//;

export const upstreamPinsCheck: GitopsCheck = {
  id: 'upstream-pins',
  title:
    'Argo CD and every chart pinned to a release that exists upstream (the newest patch of its minor for Argo CD), with facts recorded at that release',
  run(ctx) {
    const problems: string[] = [];
    const { argoCd, charts } = ctx.facts;
    const recorded = argoCd.sources[0].tag;
    for (const f of ctx.folders) {
      for (const url of f.remoteResources) {
        const tag = ARGO_CD_INSTALL.exec(url)?.[1];
        if (!tag) continue;
        if (!argoCd.releasedTags.includes(tag)) {
          problems.push(`${f.dir}: Argo CD ${tag} is not a released tag of argoproj/argo-cd`);
        } else if (tag !== recorded) {
          problems.push(
            `${f.dir}: pins Argo CD ${tag} but the upstream facts (tools/validate-gitops/upstream/argo-cd.json) were recorded at ${recorded}; re-record them`,
          );
        }
        const newest = newestPatch(argoCd.releasedTags, tag);
        if (newest && newest !== tag) {
          problems.push(
            `${f.dir}: Argo CD ${tag} is not the newest patch of its minor (${newest} is released); patch releases carry the fixes`,
          );
        }
      }
    }
    for (const r of ctx.helmReleases) {
      const where = `Application ${r.app.app.metadata.name} chart ${r.chart}`;
      const version = r.app.sources.find((s) => s.chart === r.chart)?.targetRevision;
      const facts = charts.find((c) => c.chart === r.chart);
      if (!facts) {
        problems.push(
          `${where}: no upstream facts recorded for this chart (tools/validate-gitops/upstream/chart-${r.chart}.json)`,
        );
        continue;
      }
      if (!facts.releasedVersions.some((v) => sameVersion(v, version))) {
        problems.push(
          `${where}: version ${version} was never released upstream (${facts.sources[0].repository}); released: …${facts.releasedVersions.slice(-5).join(', ')}`,
        );
      } else if (!sameVersion(facts.version, version)) {
        problems.push(
          `${where}: pinned at ${version} but its values facts were recorded at ${facts.version}; re-record them`,
        );
      }
    }
    return problems;
  },
};

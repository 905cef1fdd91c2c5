import { type GitopsCheck } from '../context';
import { podsOf } from '../lookups';
import { describe } from '../schema';

// Some Helm repositories (jetstack's cert-manager) put a "v" in front of the chart version.
const SEMVER = /^v?\d+\.\d+\.\d+$/;
const PINNED_REMOTE = /\/v\d+\.\d+\.\d+\/|[?&]ref=(v\d+\.\d+\.\d+|[0-9a-f]{40})\b/;

export const pinnedVersionsCheck: GitopsCheck = {
  id: 'pinned-versions',
  title:
    'charts, remote bases and images pinned: exact chart versions, tagged Argo CD, images by git SHA (never latest)',
  run(ctx) {
    const problems: string[] = [];
    for (const a of ctx.applications) {
      for (const s of a.sources) {
        const id = `Application ${a.app.metadata.name} source ${s.chart ?? s.repoURL}`;
        if (s.chart) {
          if (!SEMVER.test(s.targetRevision ?? '')) {
            problems.push(
              `${id}: chart targetRevision "${s.targetRevision ?? ''}" must be an exact version like 1.2.3`,
            );
          }
        } else if (!s.targetRevision || /^(HEAD|\*|latest)$/i.test(s.targetRevision)) {
          problems.push(
            `${id}: targetRevision must name a branch, tag or commit, not "${s.targetRevision ?? ''}"`,
          );
        }
      }
    }
    for (const f of ctx.folders) {
      for (const r of f.remoteResources) {
        if (!PINNED_REMOTE.test(r)) {
          problems.push(`${f.dir}: remote resource ${r} is not pinned to a release tag or commit`);
        }
      }
    }
    for (const d of ctx.deployables) {
      for (const { owner, pod } of podsOf(d.objects)) {
        for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
          const image: string = c.image ?? '';
          const where = `${d.dir}: ${describe(owner)} container ${c.name}`;
          const digest = /@sha256:[0-9a-f]{64}$/.test(image);
          const tag = /:([^/:@]+)$/.exec(image)?.[1];
          if (digest) continue;
          if (!tag) {
            problems.push(`${where}: image "${image}" has no tag (Kubernetes pulls :latest)`);
          } else if (tag === 'latest') {
            problems.push(`${where}: image "${image}" uses the moving tag latest`);
          } else if (!/^[0-9a-f]{7,40}$/.test(tag)) {
            problems.push(`${where}: image "${image}" tag "${tag}" is not an immutable git SHA`);
          }
          if (!image.includes('/')) {
            problems.push(
              `${where}: image "${image}" names no registry (the overlay's images: newName is missing)`,
            );
          }
        }
      }
    }
    return problems;
  },
};

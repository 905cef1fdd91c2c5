// The upstream facts validate:gitops checks the tree against (recorded in ./upstream/ by
// tools/validate-common/extract-facts.ts from the upstream repositories at the pinned tags).
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { FACTS_DIR, readFacts, type FactFile } from '../validate-common/upstream-facts';

export interface PathFacts {
  valuesPaths: string[];
  openPaths: string[];
}

export interface CrdFacts extends PathFacts {
  apiVersion: string;
}

export interface ArgoCdFacts extends FactFile {
  releasedTags: string[];
  installUrl: string;
  installSha256: string;
  standIn: string;
  standInObjects: string[];
  crdSpecPaths: Record<string, CrdFacts>;
}

export interface ChartFacts extends FactFile, PathFacts {
  chart: string;
  version: string;
  releasedVersions: string[];
}

export interface AnnotationFacts extends FactFile {
  annotations: string[];
  plusOnly: string[];
}

export interface GitopsFacts {
  dir: string;
  /** Custom resource kinds from the pinned upstream CRDs (Argo CD's, cert-manager's), by kind. */
  crds: Array<CrdFacts & { kind: string; from: string }>;
  argoCd: ArgoCdFacts;
  charts: ChartFacts[];
  nginxAnnotations: AnnotationFacts;
  /** Remote resource URL -> the stand-in file that replaces it offline. */
  standIns: Record<string, string>;
}

export function loadGitopsFacts(dir = FACTS_DIR.gitops): GitopsFacts {
  const file = (name: string) => {
    const f = path.join(dir, name);
    if (!existsSync(f)) throw new Error(`upstream facts ${f} are missing`);
    return f;
  };
  const argoCd = readFacts<ArgoCdFacts>(file('argo-cd.json'));
  const charts = readdirSync(dir)
    .filter((f) => /^chart-.+\.json$/.test(f))
    .map((f) => readFacts<ChartFacts>(path.join(dir, f)));
  const crdFiles = [
    argoCd,
    ...readdirSync(dir)
      .filter((f) => /^crds-.+\.json$/.test(f))
      .map((f) =>
        readFacts<FactFile & { crdSpecPaths: Record<string, CrdFacts> }>(path.join(dir, f)),
      ),
  ];
  return {
    dir,
    crds: crdFiles.flatMap((f) =>
      Object.entries(f.crdSpecPaths).map(([kind, c]) => ({
        kind,
        from: `${f.sources[0].repository}@${f.sources[0].tag}`,
        ...c,
      })),
    ),
    argoCd,
    charts,
    nginxAnnotations: readFacts<AnnotationFacts>(file('nginx-ingress-annotations.json')),
    standIns: { [argoCd.installUrl]: file(argoCd.standIn) },
  };
}

/** Versions compare without the "v" some Helm repositories put in front. */
export const sameVersion = (a?: string, b?: string) =>
  !!a && !!b && a.replace(/^v/, '') === b.replace(/^v/, '');

// Records upstream facts for the validators from bare git snapshots of the upstream
// repositories (e.g. the search tool's `fetch`, or `git clone --bare`). Run by hand when a pin
// changes; CI only reads the files it writes. Every file names its sources and this command.
//
//   ts-node --transpile-only tools/validate-common/extract-facts.ts <kind> --git-dir DIR --tag TAG [...]
//
// Kinds: argo-cd, helm-chart, nginx-ingress, and (tools/validate-infra/extract-infra-facts.ts)
// the infra ones.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { commandLine, git, show, source, tags, write } from './git-snapshot';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { FACTS_DIR, keyPaths } from './upstream-facts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export function schemaPaths(
  schema: Json,
  at: string,
): { valuesPaths: string[]; openPaths: string[] } {
  const valuesPaths: string[] = [];
  const openPaths: string[] = [];
  const walk = (s: Json, p: string) => {
    if (!s || typeof s !== 'object') return;
    valuesPaths.push(p);
    if (s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties) openPaths.push(p);
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${p}.${k}`);
    if (s.items) walk(s.items, `${p}[]`);
  };
  walk(schema, at);
  return { valuesPaths, openPaths };
}

/** Argo CD: released tags, the install manifest's digest, and a stand-in of the patched objects. */
function argoCd(gitDir: string, tag: string, targets: string[]): void {
  const installPath = 'manifests/install.yaml';
  const install = show(gitDir, tag, installPath);
  const objects = parseAllDocuments(install).map((d) => d.toJSON() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
  const standIn = targets.map((t) => {
    const [kind, name] = t.split('/');
    const found = objects.find((o) => o?.kind === kind && o?.metadata?.name === name);
    if (!found) throw new Error(`${installPath} at ${tag} has no ${kind} ${name}`);
    return found;
  });
  // The fields of the two kinds the platform writes, from the CRDs this release installs.
  const crds = Object.fromEntries(
    objects
      .filter(
        (o) =>
          o?.kind === 'CustomResourceDefinition' &&
          ['Application', 'AppProject'].includes(o.spec.names.kind),
      )
      .map((crd) => {
        const version = crd.spec.versions.find((v: { served: boolean }) => v.served);
        return [
          crd.spec.names.kind,
          {
            apiVersion: `${crd.spec.group}/${version.name}`,
            ...schemaPaths(version.schema.openAPIV3Schema.properties.spec, 'spec'),
          },
        ];
      }),
  );
  const base = path.join(FACTS_DIR.gitops, 'argo-cd');
  const header = `# Upstream shape of the objects gitops/bootstrap/argocd patches, extracted from\n# argoproj/argo-cd ${tag} ${installPath} by:\n#   ${commandLine()}\n`;
  writeFileSync(
    `${base}-install.standin.yaml`,
    header + standIn.map((o) => stringify(o)).join('---\n'),
  );
  write(`${base}.json`, {
    about: 'Argo CD releases, the install manifest and its CRDs',
    sources: [source(gitDir, 'argoproj/argo-cd', tag, [installPath])],
    extractedWith: commandLine(),
    releasedTags: tags(gitDir, /^v\d+\.\d+\.\d+$/),
    installUrl: `https://raw.githubusercontent.com/argoproj/argo-cd/${tag}/${installPath}`,
    installSha256: createHash('sha256').update(install).digest('hex'),
    standIn: path.basename(`${base}-install.standin.yaml`),
    standInObjects: targets,
    crdSpecPaths: crds,
  });
}

interface ChartSpec {
  name: string;
  repository: string;
  gitDir: string;
  tag: string;
  chartPath: string;
  /** How released chart versions are found: a tag pattern, or each tag's Chart.yaml. */
  versions: string[];
  /** Free-form maps the chart passes through whole, with why (added to the empty-map ones). */
  open: string[];
  subcharts: Array<{
    as: string;
    repository: string;
    gitDir: string;
    tag: string;
    chartPath: string;
  }>;
}

/**
 * What a chart's templates read: every `.Values.a.b` they name (values.yaml leaves many keys
 * commented out), and the maps they pass through whole with toYaml (open to any key).
 */
function templateReads(gitDir: string, tag: string, chartPath: string, prefix = '') {
  const files = git(gitDir, 'ls-tree', '-r', '--name-only', tag, '--', `${chartPath}/templates`)
    .split('\n')
    .filter((f) => /\.(yaml|yml|tpl|txt)$/.test(f));
  const reads = new Set<string>();
  const whole = new Set<string>();
  const at = (p: string) => (prefix ? `${prefix}.${p}` : p);
  for (const f of files) {
    const text = show(gitDir, tag, f);
    for (const m of text.matchAll(/\.Values\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)/g)) {
      const parts = m[1].split('.');
      parts.forEach((_, i) => reads.add(at(parts.slice(0, i + 1).join('.'))));
    }
    for (const m of text.matchAll(
      /toYaml\s+\(?\s*\.Values\.([\w.]+)|\.Values\.([\w.]+)\s*\|\s*toYaml/g,
    )) {
      whole.add(at(m[1] ?? m[2]));
    }
    // `with .Values.x` blocks that dump or range over the whole map.
    for (const m of text.matchAll(
      /\{\{-?\s*with\s+\.Values\.([\w.]+)\s*-?\}\}([\s\S]*?)\{\{-?\s*end/g,
    )) {
      if (/toYaml\s+\.(\s|\||\})|range\s[^}]*:=\s*\.\s*-?\}\}/.test(m[2])) whole.add(at(m[1]));
    }
  }
  return { reads: [...reads], whole: [...whole], files: `${chartPath}/templates` };
}

function helmChart(spec: ChartSpec): void {
  const valuesFile = `${spec.chartPath}/values.yaml`;
  const own = keyPaths(parse(show(spec.gitDir, spec.tag, valuesFile)) ?? {});
  const ownReads = templateReads(spec.gitDir, spec.tag, spec.chartPath);
  const sources = [source(spec.gitDir, spec.repository, spec.tag, [valuesFile, ownReads.files])];
  const valuesPaths = [...own.paths, ...ownReads.reads];
  const openPaths = [...own.open, ...ownReads.whole, ...spec.open];
  for (const sub of spec.subcharts) {
    const file = `${sub.chartPath}/values.yaml`;
    const k = keyPaths(parse(show(sub.gitDir, sub.tag, file)) ?? {}, sub.as);
    const r = templateReads(sub.gitDir, sub.tag, sub.chartPath, sub.as);
    valuesPaths.push(...k.paths, ...r.reads);
    openPaths.push(...k.open, ...r.whole);
    sources.push(source(sub.gitDir, sub.repository, sub.tag, [file, r.files]));
  }
  const chartYaml = parse(show(spec.gitDir, spec.tag, `${spec.chartPath}/Chart.yaml`));
  write(path.join(FACTS_DIR.gitops, `chart-${spec.name}.json`), {
    about: `${spec.name} Helm chart: released versions and the values keys it reads`,
    sources,
    extractedWith: commandLine(),
    chart: spec.name,
    // Some charts keep a placeholder version in git and stamp the tag's at release.
    version: /^v?0\.[01]\.0$|^v?0\.0\.0$/.test(String(chartYaml.version))
      ? spec.tag.replace(/^.*?v?(\d+\.\d+\.\d+)$/, '$1')
      : String(chartYaml.version),
    releasedVersions: spec.versions,
    valuesPaths: [...new Set(valuesPaths)].sort(),
    openPaths: [...new Set(openPaths)].sort(),
  });
}

/** A project's CustomResourceDefinitions (files in its repository): the spec fields each declares. */
function crds(
  gitDir: string,
  tag: string,
  name: string,
  repository: string,
  files: string[],
): void {
  const crdSpecPaths: Record<string, object> = {};
  for (const f of files) {
    for (const doc of parseAllDocuments(show(gitDir, tag, f))) {
      const crd = doc.toJSON() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      const version = crd.spec.versions.find((v: { storage: boolean }) => v.storage);
      crdSpecPaths[crd.spec.names.kind] = {
        apiVersion: `${crd.spec.group}/${version.name}`,
        ...schemaPaths(version.schema.openAPIV3Schema.properties.spec, 'spec'),
      };
    }
  }
  write(path.join(FACTS_DIR.gitops, `crds-${name}.json`), {
    about: `${name} custom resources: the spec fields of each kind`,
    sources: [source(gitDir, repository, tag, files)],
    extractedWith: commandLine(),
    crdSpecPaths,
  });
}

/** The F5 NGINX Ingress Controller: the Ingress annotations its code reads, and which are Plus-only. */
function nginxAnnotations(gitDir: string, tag: string): void {
  // Every annotation name the controller's Go code (tests excluded) spells out.
  const pattern = '"(nginx\\.org|nginx\\.com|ingress\\.kubernetes\\.io)/[a-z0-9.-]+"';
  const hits = git(
    gitDir,
    'grep',
    '-h',
    '-o',
    '-E',
    pattern,
    tag,
    '--',
    'internal/*.go',
    ':!*_test.go',
  );
  const names = [...new Set(hits.split('\n').filter(Boolean))].map((s) => s.slice(1, -1)).sort();
  const file = 'internal/**/*.go';
  write(path.join(FACTS_DIR.gitops, 'nginx-ingress-annotations.json'), {
    about:
      'Ingress annotations the F5 NGINX Ingress Controller reads (nginx.com/* need NGINX Plus)',
    sources: [source(gitDir, 'nginx/kubernetes-ingress', tag, [file])],
    extractedWith: commandLine(),
    annotations: names,
    plusOnly: names.filter((n) => n.startsWith('nginx.com/')),
  });
}

function main(): void {
  const [kind, ...rest] = process.argv.slice(2);
  const { values: v } = parseArgs({
    args: rest,
    strict: true,
    options: {
      'git-dir': { type: 'string' },
      tag: { type: 'string' },
      target: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
      repository: { type: 'string' },
      'chart-path': { type: 'string' },
      'version-tags': { type: 'string' },
      'version-from-chart-yaml': { type: 'string' },
      open: { type: 'string', multiple: true, default: [] },
      subchart: { type: 'string', multiple: true, default: [] },
      file: { type: 'string', multiple: true, default: [] },
    },
  });
  const gitDir = v['git-dir'];
  const tag = v.tag;
  if (!gitDir || !tag) throw new Error('--git-dir and --tag are required');
  if (kind === 'argo-cd') return argoCd(gitDir, tag, v.target);
  if (kind === 'nginx-ingress') return nginxAnnotations(gitDir, tag);
  if (kind === 'crds') return crds(gitDir, tag, v.name!, v.repository!, v.file);
  if (kind === 'helm-chart') {
    const chartPath = v['chart-path']!;
    // Released chart versions: tags named <prefix><version>, or (one repo, one chart) each tag's Chart.yaml.
    let versions: string[];
    if (v['version-tags']) {
      const prefix = v['version-tags'];
      versions = tags(
        gitDir,
        new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}v?\\d+\\.\\d+\\.\\d+$`),
      ).map((t) => t.slice(prefix.length).replace(/^v/, ''));
    } else {
      const tagPattern = new RegExp(v['version-from-chart-yaml'] ?? '^v\\d+\\.\\d+\\.\\d+$');
      versions = tags(gitDir, tagPattern).flatMap((t) => {
        try {
          return [String(parse(show(gitDir, t, `${chartPath}/Chart.yaml`)).version)];
        } catch {
          return [];
        }
      });
    }
    return helmChart({
      name: v.name!,
      repository: v.repository!,
      gitDir,
      tag,
      chartPath,
      versions: [...new Set(versions)],
      open: v.open,
      subcharts: v.subchart.map((s) => {
        // as=repository=gitDir=tag=chartPath
        const [as, repository, dir, subTag, subPath] = s.split('=');
        return { as, repository, gitDir: dir, tag: subTag, chartPath: subPath };
      }),
    });
  }
  throw new Error(`unknown kind ${kind}: argo-cd, helm-chart, nginx-ingress, crds`);
}

if (require.main === module) main();

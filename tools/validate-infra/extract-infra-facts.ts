// Records the delivery tree's upstream facts (tools/validate-infra/upstream/) from bare git
// snapshots of the upstream repositories. Run by hand when a pin changes; CI only reads them.
//
//   ts-node --transpile-only tools/validate-infra/extract-infra-facts.ts jenkins --mirror DIR
//   ts-node --transpile-only tools/validate-infra/extract-infra-facts.ts terraform-google --git-dir DIR --tag vX.Y.Z [--tag ...]
//   ts-node --transpile-only tools/validate-infra/extract-infra-facts.ts ansible-collection --git-dir DIR --tag X.Y.Z --module NAME [...]
//
// --mirror is a folder of bare snapshots named owner+name/repo (as the search tool's fetch
// leaves them); the plugins and versions come from ansible/roles/jenkins/defaults/main.yml.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { commandLine, git, show, source, tags, write } from '../validate-common/git-snapshot';
import { recordJenkinsFacts } from './jenkins-facts';
import { FACTS_DIR } from '../validate-common/upstream-facts';

const REPO = path.join(__dirname, '..', '..');

/** Arguments and nested blocks of each resource the platform uses, per provider release. */
function terraformGoogle(gitDir: string, tagList: string[]): void {
  const used = new Set<string>();
  for (const f of ['terraform', 'terraform/bootstrap'].flatMap((d) =>
    readdirSync(path.join(REPO, d))
      .filter((n) => n.endsWith('.tf'))
      .map((n) => path.join(REPO, d, n)),
  )) {
    for (const m of readFileSync(f, 'utf8').matchAll(/resource\s+"(google_[a-z0-9_]+)"/g)) {
      used.add(m[1]);
    }
  }
  const releases: Record<string, object> = {};
  const sources = [];
  for (const tag of tagList) {
    const resources: Record<string, { arguments: string[]; deprecated: string[] }> = {};
    const files: string[] = [];
    for (const r of [...used].sort()) {
      // IAM member/binding/policy resources share one page (<resource>_iam).
      const page = r.replace(/^google_/, '').replace(/_iam_(member|binding|policy)$/, '_iam');
      // Some pages keep the google_ prefix in their file name.
      const file = [page, `google_${page}`]
        .map((n) => `website/docs/r/${n}.html.markdown`)
        .find((f) => git(gitDir, 'ls-tree', '--name-only', tag, f).trim() === f);
      if (!file) throw new Error(`no documentation page for ${r} at ${tag}`);
      files.push(file);
      resources[r] = docArguments(show(gitDir, tag, file));
      if (r === 'google_container_node_pool') {
        // Its node_config is documented on the cluster's page.
        const cluster = docArguments(
          show(gitDir, tag, 'website/docs/r/container_cluster.html.markdown'),
        );
        resources[r] = {
          arguments: [...new Set([...resources[r].arguments, ...cluster.arguments])].sort(),
          deprecated: [...new Set([...resources[r].deprecated, ...cluster.deprecated])].sort(),
        };
      }
    }
    releases[tag.replace(/^v/, '')] = resources;
    sources.push(source(gitDir, 'hashicorp/terraform-provider-google', tag, files));
  }
  write(path.join(FACTS_DIR.infra, 'terraform-provider-google.json'), {
    about:
      'hashicorp/google provider releases and the arguments (with nested blocks) of each resource the platform uses',
    sources,
    extractedWith: commandLine(),
    releasedTags: tags(gitDir, /^v\d+\.\d+\.\d+$/).map((t) => t.slice(1)),
    releases,
  });
}

/**
 * Argument names a provider resource page documents: the "* `name` - ..." items of the argument
 * reference and of its nested blocks (the pages do not state nesting consistently, so names are
 * recorded flat), and the ones whose text calls them deprecated. The attributes-reference,
 * timeouts and import sections are outputs or operations, not arguments.
 */
export function docArguments(markdown: string): { arguments: string[]; deprecated: string[] } {
  const args = new Set<string>();
  // Names are flat: one is deprecated only when every block's argument of that name is.
  const seen = new Map<string, { all: number; deprecated: number }>();
  let section = '';
  let current: { name: string; text: string } | undefined;
  const flush = () => {
    if (!current) return;
    const names = current.name.split('/');
    names.forEach((n) => args.add(n));
    const count = seen.get(current.name) ?? { all: 0, deprecated: 0 };
    count.all++;
    seen.set(current.name, count);
    // The argument itself deprecated (not one of its values): "(Optional, Deprecated)",
    // "Deprecated ...", "This field is deprecated".
    if (
      /^-?\s*\((?:Optional|Required)?[,\s]*Deprecated|^-?\s*Deprecated|\bthis (field|argument) (is|has been) deprecated/i.test(
        current.text,
      )
    ) {
      count.deprecated++;
    }
    current = undefined;
  };
  for (const line of markdown.split('\n')) {
    const heading = /^##\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      section = heading[1].toLowerCase();
      continue;
    }
    if (/attributes reference|timeouts|import|user project overrides/.test(section)) continue;
    // Arguments some blocks describe in prose (maintenance_policy's recurring_window) or as
    // "`member/members`": every backticked snake_case name of an argument section counts.
    for (const m of line.matchAll(/`([a-z][a-z0-9_]*(?:\/[a-z][a-z0-9_]*)*)`/g)) {
      m[1].split('/').forEach((n) => args.add(n));
    }
    const item = /^\*\s+`([a-z0-9_/]+)`\s*(.*)$/.exec(line);
    if (item) {
      flush();
      current = { name: item[1], text: item[2] };
    } else if (current && /^\s+\S/.test(line)) {
      current.text += ` ${line.trim()}`;
    } else if (!line.trim() || /^<a name=|^The `/.test(line)) {
      flush();
    }
  }
  flush();
  const deprecated = [...seen].filter(([, c]) => c.deprecated === c.all).map(([n]) => n);
  return { arguments: [...args].sort(), deprecated: deprecated.sort() };
}

/** Module options (and suboptions) an Ansible collection release documents. */
function ansibleCollection(gitDir: string, tag: string, modules: string[]): void {
  const galaxy = parse(show(gitDir, tag, 'galaxy.yml'));
  const name = `${galaxy.namespace}.${galaxy.name}`;
  const out: Record<string, string[]> = {};
  const files: string[] = [];
  for (const m of modules) {
    const file = `plugins/modules/${m}.py`;
    files.push(file);
    const doc = /DOCUMENTATION\s*=\s*r?(['"]{3})([\s\S]*?)\1/.exec(show(gitDir, tag, file))?.[2];
    if (!doc) throw new Error(`${file}: no DOCUMENTATION`);
    const opts: string[] = [];
    const walk = (o: Record<string, { suboptions?: object; aliases?: string[] }>, at: string) => {
      for (const [k, v] of Object.entries(o ?? {})) {
        for (const n of [k, ...(v?.aliases ?? [])]) opts.push(at ? `${at}.${n}` : n);
        if (v?.suboptions) walk(v.suboptions as never, at ? `${at}.${k}` : k);
      }
    };
    walk(parse(doc).options, '');
    out[`${name}.${m}`] = opts.sort();
  }
  write(path.join(FACTS_DIR.infra, `ansible-${name}.json`), {
    about: `${name} collection: released versions and the options of the modules the platform uses`,
    sources: [source(gitDir, `ansible-collections/${name}`, tag, files)],
    extractedWith: commandLine(),
    collection: name,
    version: tag,
    releasedTags: tags(gitDir, /^\d+\.\d+\.\d+$/),
    modules: out,
  });
}

function main(): void {
  const [kind, ...rest] = process.argv.slice(2);
  const { values: v } = parseArgs({
    args: rest,
    strict: true,
    options: {
      mirror: { type: 'string' },
      'git-dir': { type: 'string' },
      tag: { type: 'string', multiple: true, default: [] },
      module: { type: 'string', multiple: true, default: [] },
    },
  });
  if (kind === 'jenkins') return recordJenkinsFacts(v.mirror!);
  if (kind === 'terraform-google') return terraformGoogle(v['git-dir']!, v.tag);
  if (kind === 'ansible-collection') return ansibleCollection(v['git-dir']!, v.tag[0], v.module);
  throw new Error(`unknown kind ${kind}: jenkins, terraform-google, ansible-collection`);
}

if (require.main === module) main();

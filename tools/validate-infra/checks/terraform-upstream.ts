import { join } from 'node:path';
import { compareVersions, readFacts, type FactFile } from '../../validate-common/upstream-facts';
import { TF_DIRS, type InfraCheck } from '../support';
import { loadModule, type TfModule } from '../terraform-module';

interface ProviderFacts extends FactFile {
  releasedTags: string[];
  releases: Record<string, Record<string, { arguments: string[]; deprecated: string[] }>>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const META = new Set([
  'count',
  'for_each',
  'depends_on',
  'lifecycle',
  'provider',
  'provisioner',
  'connection',
]);

/** Argument and block names a resource body sets, at any depth (blocks are lists of objects). */
export function argumentNames(body: Json, out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(body)) {
    if (META.has(k)) continue;
    if (k === 'dynamic') {
      for (const [label, blocks] of Object.entries<Json[]>(v)) {
        out.add(label);
        for (const b of blocks) for (const c of b.content ?? []) argumentNames(c, out);
      }
      continue;
    }
    out.add(k);
    if (Array.isArray(v) && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
      v.forEach((x) => argumentNames(x, out));
    }
  }
  return out;
}

/** The releases a "~> X.Y" / ">= X.Y, < Z" constraint admits, from the recorded tags. */
function admitted(constraint: string, released: string[]): { lowest?: string; newest?: string } {
  const pess = /~>\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(constraint);
  if (!pess) return {};
  const low = `${pess[1]}.${pess[2]}.${pess[3] ?? 0}`;
  const high =
    pess[3] === undefined ? `${Number(pess[1]) + 1}.0.0` : `${pess[1]}.${Number(pess[2]) + 1}.0`;
  const inRange = released
    .filter((v) => compareVersions(v, low) >= 0 && compareVersions(v, high) < 0)
    .sort(compareVersions);
  return { lowest: inRange[0], newest: inRange.at(-1) };
}

export function terraformUpstream(mod: TfModule, facts: ProviderFacts): string[] {
  const problems: string[] = [];
  const constraint = mod.terraform
    .flatMap((t) => (t.body.required_providers ?? []).map((p: Json) => p.google?.version))
    .find(Boolean);
  if (!constraint) return [`${mod.dir}: no version constraint for the google provider`];
  const { lowest, newest } = admitted(constraint, facts.releasedTags);
  if (!lowest || !newest) {
    return [
      `${mod.dir}: google provider "${constraint}" admits no release recorded upstream (hashicorp/terraform-provider-google)`,
    ];
  }
  for (const version of new Set([lowest, newest])) {
    const release = facts.releases[version];
    if (!release) {
      problems.push(
        `${mod.dir}: "${constraint}" admits ${version}, whose resource docs are not recorded (tools/validate-infra/upstream/terraform-provider-google.json); re-record them`,
      );
      continue;
    }
    for (const r of mod.resources) {
      const docs = release[r.type];
      if (!docs) {
        problems.push(
          `${r.file}: ${r.type} is not recorded for provider ${version}; re-record the facts`,
        );
        continue;
      }
      for (const name of argumentNames(r.body)) {
        if (!docs.arguments.includes(name)) {
          problems.push(
            `${r.file}: ${r.type}.${r.name} sets "${name}", which provider ${version} does not document for ${r.type}`,
          );
        } else if (docs.deprecated.includes(name)) {
          problems.push(
            `${r.file}: ${r.type}.${r.name} sets "${name}", which provider ${version} deprecates`,
          );
        }
      }
    }
  }
  return problems;
}

export const terraformUpstreamCheck: InfraCheck = {
  id: 'terraform-upstream',
  title:
    'every Terraform argument exists, undeprecated, in the lowest and the newest google provider release the version constraint admits',
  async run(root) {
    const facts = readFacts<ProviderFacts>(
      join(__dirname, '..', 'upstream', 'terraform-provider-google.json'),
    );
    const problems: string[] = [];
    for (const dir of TF_DIRS) {
      problems.push(...terraformUpstream(await loadModule(root, dir), facts));
    }
    return [...new Set(problems)];
  },
};

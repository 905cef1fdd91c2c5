import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readFacts, type FactFile } from '../../validate-common/upstream-facts';
import { walk, type InfraCheck } from '../support';

interface CollectionFacts extends FactFile {
  collection: string;
  version: string;
  releasedTags: string[];
  modules: Record<string, string[]>;
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Option paths a task gives a module ("build.path" for a suboption). */
function optionPaths(args: Json, known: string[], at = ''): string[] {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return [];
  return Object.entries(args).flatMap(([k, v]) => {
    const p = at ? `${at}.${k}` : k;
    const hasSub = known.some((o) => o.startsWith(`${p}.`));
    return [p, ...(hasSub ? optionPaths(v, known, p) : [])];
  });
}

export const ansibleUpstreamCheck: InfraCheck = {
  id: 'ansible-upstream',
  title:
    'the Ansible collections are pinned to released versions, and every option the tasks give their modules is documented by the pinned release',
  run(root) {
    const problems: string[] = [];
    const facts = readFacts<CollectionFacts>(
      join(__dirname, '..', 'upstream', 'ansible-community.docker.json'),
    );
    const req = parseYaml(readFileSync(join(root, 'ansible/requirements.yml'), 'utf8'));
    const pinned = (req.collections ?? []).find((c: Json) => c.name === facts.collection);
    if (!pinned) {
      problems.push(
        `ansible/requirements.yml does not pin ${facts.collection}, which the role uses`,
      );
    } else if (!facts.releasedTags.includes(String(pinned.version))) {
      problems.push(`${facts.collection} ${pinned.version} is not a released version`);
    } else if (String(pinned.version) !== facts.version) {
      problems.push(
        `${facts.collection} is pinned at ${pinned.version} but its facts were recorded at ${facts.version}; re-record them`,
      );
    }
    const files = walk(join(root, 'ansible/roles'), (p) =>
      /\/(tasks|handlers)\/[^/]+\.ya?ml$/.test(p),
    );
    for (const f of files) {
      for (const task of parseYaml(readFileSync(f, 'utf8')) ?? []) {
        for (const [module, args] of Object.entries<Json>(task ?? {})) {
          const known = facts.modules[module];
          if (!module.startsWith(`${facts.collection}.`)) continue;
          if (!known) {
            problems.push(
              `${relative(root, f)}: ${module} is not recorded for ${facts.collection} ${facts.version}; re-record the facts`,
            );
            continue;
          }
          for (const p of optionPaths(args, known)) {
            if (!known.includes(p)) {
              problems.push(
                `${relative(root, f)}: task "${task.name}": ${module} has no option "${p}" in ${facts.collection} ${facts.version}`,
              );
            }
          }
        }
      }
    }
    return Promise.resolve(problems);
  },
};

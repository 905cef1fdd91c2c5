import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compareVersions, readFacts, type FactFile } from '../../validate-common/upstream-facts';
import { walk, type InfraCheck } from '../support';

interface JenkinsFacts extends FactFile {
  core: { version: string; releasedTags: string[] };
  plugins: Record<string, { version: string; tag: string | null; requiredCore: string | null }>;
  jcasc: Record<string, { from: string[]; symbols: string[]; attributes: string[] }>;
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every mapping key below a node, at any depth. */
function keysBelow(node: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((n) => keysBelow(n, out));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      out.add(k);
      keysBelow(v, out);
    }
  }
  return out;
}

/** The JCasC blocks jenkins.yaml sets, by the facts key of the class that defines each. */
function jcascBlocks(
  casc: Json,
): Array<{ key: string; where: string; node: Json; shallow?: boolean }> {
  const j = casc.jenkins ?? {};
  const blocks = [
    { key: 'jenkins', where: 'jenkins', node: j, shallow: true },
    {
      key: 'jenkins.crumbIssuer.standard',
      where: 'jenkins.crumbIssuer.standard',
      node: j.crumbIssuer?.standard,
    },
    {
      key: 'jenkins.securityRealm.local',
      where: 'jenkins.securityRealm.local',
      node: j.securityRealm?.local,
    },
    {
      key: 'jenkins.authorizationStrategy.globalMatrix',
      where: 'jenkins.authorizationStrategy.globalMatrix',
      node: j.authorizationStrategy?.globalMatrix,
    },
    {
      key: 'unclassified.location',
      where: 'unclassified.location',
      node: casc.unclassified?.location,
    },
    {
      key: 'unclassified.timestamper',
      where: 'unclassified.timestamper',
      node: casc.unclassified?.timestamper,
    },
  ];
  (j.clouds ?? []).forEach((c: Json, i: number) => {
    for (const [symbol, node] of Object.entries(c ?? {})) {
      blocks.push({
        key: `jenkins.clouds[].${symbol}`,
        where: `jenkins.clouds[${i}].${symbol}`,
        node,
      });
    }
  });
  (j.globalNodeProperties ?? []).forEach((p: Json, i: number) => {
    for (const [symbol, node] of Object.entries(p ?? {})) {
      blocks.push({
        key: `jenkins.globalNodeProperties[].${symbol}`,
        where: `jenkins.globalNodeProperties[${i}].${symbol}`,
        node,
      });
    }
  });
  for (const d of casc.credentials?.system?.domainCredentials ?? []) {
    (d.credentials ?? []).forEach((c: Json, i: number) => {
      for (const [symbol, node] of Object.entries(c ?? {})) {
        blocks.push({ key: `credentials.${symbol}`, where: `credentials[${i}].${symbol}`, node });
      }
    });
  }
  return blocks.filter((b) => b.node !== undefined);
}

export function jenkinsUpstream(root: string, facts: JenkinsFacts): string[] {
  const problems: string[] = [];
  const defaults = parseYaml(
    readFileSync(join(root, 'ansible/roles/jenkins/defaults/main.yml'), 'utf8'),
  );
  const core = String(defaults.jenkins_version);
  if (!facts.core.releasedTags.includes(core)) {
    problems.push(`jenkins_version ${core} is not a released Jenkins (jenkinsci/jenkins tags)`);
  } else if (facts.core.version !== core) {
    problems.push(
      `jenkins_version ${core} but the facts were recorded for ${facts.core.version}; re-record them`,
    );
  }
  for (const entry of defaults.jenkins_plugins ?? []) {
    const [id, version] = String(entry).split(':');
    const p = facts.plugins[id];
    if (!p || p.version !== version) {
      problems.push(
        `plugin ${id}:${version} has no upstream facts recorded at that version; re-record them`,
      );
    } else if (!p.tag) {
      problems.push(
        `plugin ${id}:${version} is not a released version (no such tag in jenkinsci/${id}-plugin)`,
      );
    } else if (p.requiredCore && compareVersions(p.requiredCore, core) > 0) {
      problems.push(
        `plugin ${id}:${version} needs Jenkins ${p.requiredCore} (its pom), newer than jenkins_version ${core}`,
      );
    }
  }
  // Configuration as code: every key the template sets is an attribute the pinned class has.
  const template = readFileSync(
    join(root, 'ansible/roles/jenkins/templates/jenkins.yaml.j2'),
    'utf8',
  );
  const casc = parseYaml(template.replace(/\{\{[^}]*\}\}/g, 'x').replace(/\{%[^%]*%\}/g, ''));
  for (const b of jcascBlocks(casc)) {
    const f = facts.jcasc[b.key];
    if (!f) {
      problems.push(
        `jenkins.yaml.j2 ${b.where}: no pinned plugin's facts define it (tools/validate-infra/upstream/jenkins.json)`,
      );
      continue;
    }
    const keys = b.shallow ? Object.keys(b.node ?? {}) : [...keysBelow(b.node)];
    for (const k of keys) {
      if (!f.attributes.includes(k)) {
        problems.push(
          `jenkins.yaml.j2 ${b.where}: "${k}" is not an attribute of ${f.from.join(', ')}; configuration as code would refuse it`,
        );
      }
    }
  }
  // The Jenkinsfiles' kubernetes agent blocks.
  const agent = facts.jcasc['agent.kubernetes'];
  for (const file of [
    'Jenkinsfile',
    ...walk(join(root, 'jenkins'), (p) => p.endsWith('Jenkinsfile')).map((f) =>
      f.slice(root.length + 1),
    ),
  ]) {
    if (!existsSync(join(root, file))) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/\bkubernetes\s*\{([^}]*)\}/g)) {
      for (const k of m[1].matchAll(/^\s*(\w+)\s+['"\d]/gm)) {
        if (!agent?.attributes.includes(k[1])) {
          problems.push(
            `${file}: kubernetes agent option "${k[1]}" is not in the pinned kubernetes plugin`,
          );
        }
      }
    }
  }
  return problems;
}

export const jenkinsUpstreamCheck: InfraCheck = {
  id: 'jenkins-upstream',
  title:
    'Jenkins and every plugin pinned to a released version whose core requirement the pinned Jenkins meets; every configuration-as-code key and agent option exists in the pinned plugin',
  run(root) {
    const facts = readFacts<JenkinsFacts>(join(__dirname, '..', 'upstream', 'jenkins.json'));
    return Promise.resolve(jenkinsUpstream(root, facts));
  },
};

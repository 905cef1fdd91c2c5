// Jenkins facts for validate:infra: each pinned plugin's release tag and required core, and the
// configuration-as-code attributes of the classes behind every block jenkins.yaml.j2 sets,
// read from snapshots of jenkinsci/jenkins and jenkinsci/<plugin>-plugin.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { commandLine, show, source, tags, write } from '../validate-common/git-snapshot';
import { compareVersions, FACTS_DIR } from '../validate-common/upstream-facts';

const REPO = path.join(__dirname, '..', '..');

/** JCasC symbols and attributes a Java class declares (what configuration as code can set). */
export function javaAttributes(text: string, plainSetters = false) {
  const symbols = [...text.matchAll(/@Symbol\(\s*\{?([^)}]*)\}?\s*\)/g)].flatMap((m) =>
    [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]),
  );
  const attributes = new Set<string>();
  for (const m of text.matchAll(/@DataBoundConstructor[\s\S]*?public\s+\w+\s*\(([^)]*)\)/g)) {
    for (const p of m[1].split(',')) {
      const name = /(\w+)\s*$/.exec(p.trim())?.[1];
      if (name) attributes.add(name);
    }
  }
  const setter = plainSetters
    ? /public\s+(?:synchronized\s+)?void\s+set([A-Z]\w*)\s*\(/g
    : /@DataBoundSetter[\s\S]{0,200}?void\s+set([A-Z]\w*)\s*\(/g;
  for (const m of text.matchAll(setter)) attributes.add(m[1][0].toLowerCase() + m[1].slice(1));
  if (plainSetters) {
    // Collections JCasC reads and fills through a getter or a public final field (Jenkins'
    // globalNodeProperties, clouds).
    for (const m of text.matchAll(
      /public\s+final\s+[\w.]*(?:CloudList|DescribableList<[^;=]*>)\s+(\w+)\s*=/g,
    )) {
      attributes.add(m[1]);
    }
    for (const m of text.matchAll(
      /public\s+(?:DescribableList<[^{;]*>|Clouds|List<[^{;]*>)\s+get([A-Z]\w*)\s*\(\s*\)/g,
    )) {
      attributes.add(m[1][0].toLowerCase() + m[1].slice(1));
    }
  }
  // Attributes declared by JCasC configurators (new Attribute<...>("name", ...)).
  for (const m of text.matchAll(/(?:Multivalued)?Attribute<[^>]*>\s*\(\s*"(\w+)"/g)) {
    attributes.add(m[1]);
  }
  return { symbols: [...new Set(symbols)], attributes: [...attributes].sort() };
}

/** The JCasC blocks the platform's jenkins.yaml.j2 sets, and the classes that define them. */
const JCASC_CLASSES: Array<{
  key: string;
  plugin: string;
  paths: string[];
  plainSetters?: boolean;
}> = [
  {
    key: 'jenkins',
    plugin: 'core',
    paths: ['core/src/main/java/jenkins/model/Jenkins.java'],
    plainSetters: true,
  },
  // clouds, globalNodeProperties, ... are attributes JCasC's own configurator adds to the root.
  {
    key: 'jenkins',
    plugin: 'configuration-as-code',
    paths: ['plugin/src/main/java/io/jenkins/plugins/casc/core/JenkinsConfigurator.java'],
  },
  {
    key: 'unclassified.location',
    plugin: 'core',
    paths: ['core/src/main/java/jenkins/model/JenkinsLocationConfiguration.java'],
    plainSetters: true,
  },
  {
    key: 'jenkins.crumbIssuer.standard',
    plugin: 'core',
    paths: ['core/src/main/java/hudson/security/csrf/DefaultCrumbIssuer.java'],
  },
  {
    key: 'jenkins.globalNodeProperties[].envVars',
    plugin: 'core',
    paths: ['core/src/main/java/hudson/slaves/EnvironmentVariablesNodeProperty.java'],
  },
  {
    key: 'jenkins.securityRealm.local',
    plugin: 'core',
    paths: ['core/src/main/java/hudson/security/HudsonPrivateSecurityRealm.java'],
  },
  {
    key: 'jenkins.securityRealm.local',
    plugin: 'configuration-as-code',
    paths: [
      'plugin/src/main/java/io/jenkins/plugins/casc/core/HudsonPrivateSecurityRealmConfigurator.java',
    ],
  },
  {
    key: 'jenkins.authorizationStrategy.globalMatrix',
    plugin: 'matrix-auth',
    paths: [
      'src/main/java/org/jenkinsci/plugins/matrixauth/integrations/casc/GlobalMatrixAuthorizationStrategyConfigurator.java',
      'src/main/java/org/jenkinsci/plugins/matrixauth/integrations/casc/MatrixAuthorizationStrategyConfigurator.java',
      'src/main/java/org/jenkinsci/plugins/matrixauth/integrations/casc/DefinitionEntry.java',
    ],
  },
  {
    key: 'jenkins.clouds[].kubernetes',
    plugin: 'kubernetes',
    paths: ['src/main/java/org/csanchez/jenkins/plugins/kubernetes/KubernetesCloud.java'],
  },
  {
    key: 'agent.kubernetes',
    plugin: 'kubernetes',
    paths: [
      'src/main/java/org/csanchez/jenkins/plugins/kubernetes/pipeline/KubernetesDeclarativeAgent.java',
    ],
  },
  {
    key: 'credentials.gitHubApp',
    plugin: 'github-branch-source',
    paths: ['src/main/java/org/jenkinsci/plugins/github_branch_source/GitHubAppCredentials.java'],
  },
  {
    key: 'credentials.usernamePassword',
    plugin: 'credentials',
    paths: [
      'src/main/java/com/cloudbees/plugins/credentials/impl/UsernamePasswordCredentialsImpl.java',
    ],
  },
  {
    key: 'credentials.string',
    plugin: 'plain-credentials',
    paths: ['src/main/java/org/jenkinsci/plugins/plaincredentials/impl/StringCredentialsImpl.java'],
  },
  {
    key: 'unclassified.timestamper',
    plugin: 'timestamper',
    paths: ['src/main/java/hudson/plugins/timestamper/TimestamperConfig.java'],
    plainSetters: true,
  },
];

/** Each plugin's repository (jenkinsci/<id>-plugin unless named here) and tag naming. */
const PLUGIN_REPOS: Record<string, string> = {
  'configuration-as-code': 'jenkinsci/configuration-as-code-plugin',
};

function findTag(gitDir: string, id: string, version: string): string | undefined {
  const all = tags(gitDir, /./);
  return [version, `${id}-${version}`, `v${version}`].find((t) => all.includes(t));
}

function requiredCore(pom: string): string | undefined {
  const baseline = /<jenkins\.baseline>([^<]+)</.exec(pom)?.[1];
  return /<jenkins\.version>([^<]+)</.exec(pom)?.[1].replace('${jenkins.baseline}', baseline ?? '');
}

export function recordJenkinsFacts(mirror: string): void {
  const defaults = parse(
    readFileSync(path.join(REPO, 'ansible/roles/jenkins/defaults/main.yml'), 'utf8'),
  );
  const dir = (repo: string) => path.join(mirror, repo.replace('/', '+'), 'repo');
  const coreDir = dir('jenkinsci/jenkins');
  const coreTag = `jenkins-${defaults.jenkins_version}`;
  const sources = [source(coreDir, 'jenkinsci/jenkins', coreTag, [])];
  const plugins: Record<string, object> = {};
  const gitDirs: Record<string, { gitDir: string; tag: string }> = {
    core: { gitDir: coreDir, tag: coreTag },
  };
  for (const entry of defaults.jenkins_plugins as string[]) {
    const [id, version] = entry.split(':');
    const repository = PLUGIN_REPOS[id] ?? `jenkinsci/${id}-plugin`;
    const gitDir = dir(repository);
    const tag = findTag(gitDir, id, version);
    const core = tag ? requiredCore(show(gitDir, tag, 'pom.xml')) : undefined;
    plugins[id] = { repository, version, tag: tag ?? null, requiredCore: core ?? null };
    if (tag) {
      gitDirs[id] = { gitDir, tag };
      sources.push(source(gitDir, repository, tag, ['pom.xml']));
    }
  }
  const jcasc: Record<string, object> = {};
  for (const c of JCASC_CLASSES) {
    const where = gitDirs[c.plugin];
    if (!where) {
      throw new Error(`${c.plugin} is not pinned in ansible/roles/jenkins/defaults/main.yml`);
    }
    const found = c.paths.map((p) =>
      javaAttributes(show(where.gitDir, where.tag, p), c.plainSetters),
    );
    const before = (jcasc[c.key] ?? { from: [], symbols: [], attributes: [] }) as {
      from: string[];
      symbols: string[];
      attributes: string[];
    };
    jcasc[c.key] = {
      from: [...before.from, ...c.paths.map((p) => `${c.plugin}@${where.tag}:${p}`)],
      symbols: [...new Set([...before.symbols, ...found.flatMap((f) => f.symbols)])],
      attributes: [
        ...new Set([...before.attributes, ...found.flatMap((f) => f.attributes)]),
      ].sort(),
    };
  }
  write(path.join(FACTS_DIR.infra, 'jenkins.json'), {
    about:
      'Jenkins core and plugin releases, the core each plugin needs, and the configuration-as-code attributes the platform sets',
    sources,
    extractedWith: commandLine(),
    core: {
      version: defaults.jenkins_version,
      releasedTags: tags(coreDir, /^jenkins-\d+\.\d+(\.\d+)?$/)
        .map((t) => t.slice(8))
        .sort(compareVersions),
    },
    plugins,
    jcasc,
  });
}

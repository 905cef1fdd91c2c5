// platform.yaml -> every file that copies its values (npm run platform:configure), and the
// check that no copy drifted (validate:infra platform-settings), on a scratch copy of the tree.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySettings, readSettings, settingsProblems } from './platform-settings';

const REPO = join(__dirname, '..', '..');
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'platform-settings-'));
  for (const p of ['gitops', 'ansible', 'terraform', 'Jenkinsfile', 'jenkins', 'platform.yaml']) {
    cpSync(join(REPO, p), join(root, p), { recursive: true });
  }
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const edit = (file: string, from: string | RegExp, to: string) => {
  const text = readFileSync(join(root, file), 'utf8');
  if (!text.match(from)) throw new Error(`planting failed: ${String(from)} not in ${file}`);
  writeFileSync(join(root, file), text.replace(from, to));
};

describe('platform settings', () => {
  it('holds on the committed tree', () => {
    expect(settingsProblems(REPO)).toEqual([]);
    expect(readSettings(REPO).hosts.caption).toBe('caption.example.com');
  });

  it("configure writes a fork's values everywhere, and changes nothing when run again", () => {
    edit('platform.yaml', 'owner: caption-platform', 'owner: acme');
    edit('platform.yaml', /example\.com/g, 'acme.dev');
    edit(
      'platform.yaml',
      'registry: europe-west1-docker.pkg.dev/caption-platform/',
      'registry: us-docker.pkg.dev/acme-prod/',
    );
    expect(settingsProblems(root).length).toBeGreaterThan(20);
    expect(applySettings(root)).toEqual(
      expect.arrayContaining([
        'gitops/bootstrap/projects.yaml',
        'gitops/monitoring/values.yaml',
        'Jenkinsfile',
      ]),
    );
    expect(settingsProblems(root)).toEqual([]);
    expect(applySettings(root)).toEqual([]);
    const values = readFileSync(join(root, 'gitops/monitoring/values.yaml'), 'utf8');
    expect(values).toContain('root_url: https://grafana.ops.acme.dev/');
    expect(values).toContain('# Prometheus has no authentication of its own'); // comments kept
    expect(readFileSync(join(root, 'gitops/bootstrap/root-app.yaml'), 'utf8')).toContain(
      'repoURL: https://github.com/acme/caption-platform.git',
    );
    expect(readFileSync(join(root, 'jenkins/promote.Jenkinsfile'), 'utf8')).toContain(
      "IMAGE_REPO = 'us-docker.pkg.dev/acme-prod/caption/caption-service'",
    );
  });

  it('names each copy that drifted from platform.yaml', () => {
    edit(
      'gitops/apps/caption-service/overlays/staging/kustomization.yaml',
      'value: caption.staging.example.com',
      'value: caption-staging.example.com',
    );
    edit('Jenkinsfile', "IMAGE_REPO = 'europe-west1", "IMAGE_REPO = 'us");
    expect(settingsProblems(root)).toEqual([
      expect.stringMatching(
        /^Jenkinsfile: has "us-docker\.pkg\.dev\/caption-platform\/caption\/caption-service" where platform\.yaml's registry says "europe-west1-docker/,
      ),
      expect.stringMatching(
        /^gitops\/apps\/caption-service\/overlays\/staging\/kustomization\.yaml: has "caption-staging\.example\.com" where platform\.yaml's hosts\.captionStaging says "caption\.staging\.example\.com"/,
      ),
    ]);
  });

  it("ties the agents' NetworkPolicy to the Jenkins subnet Terraform makes", () => {
    edit('platform.yaml', 'jenkinsSubnet: 10.40.0.0/24', 'jenkinsSubnet: 10.50.0.0/24');
    expect(settingsProblems(root)).toEqual([
      expect.stringMatching(
        /^terraform\/variables\.tf: has "10\.40\.0\.0\/24" where platform\.yaml's jenkinsSubnet says "10\.50\.0\.0\/24"/,
      ),
      expect.stringMatching(
        /^gitops\/ci-agents\/namespace\/networkpolicy\.yaml: has "10\.40\.0\.0\/24" where platform\.yaml's jenkinsSubnet/,
      ),
    ]);
    expect(applySettings(root).sort()).toEqual([
      'gitops/ci-agents/namespace/networkpolicy.yaml',
      'terraform/variables.tf',
    ]);
    expect(readFileSync(join(root, 'terraform/variables.tf'), 'utf8')).toContain(
      'default     = "10.50.0.0/24"',
    );
    expect(settingsProblems(root)).toEqual([]);
  });

  it('refuses a host outside the DNS domain Terraform manages', () => {
    edit('platform.yaml', 'grafana: grafana.ops.example.com', 'grafana: grafana.example.org');
    expect(() => readSettings(root)).toThrow(
      /host grafana\.example\.org is not inside dnsDomain example\.com/,
    );
  });
});

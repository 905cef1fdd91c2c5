import { parse } from 'yaml';
import { inventoryFromOutputs } from './inventory';

// Shape of `terraform output -json` for terraform/outputs.tf.
const outputs = {
  cluster_endpoint: { value: '34.1.2.3', sensitive: true },
  jenkins_external_ip: { value: '35.4.5.6', sensitive: false },
  jenkins_internal_ip: { value: '10.40.0.2', sensitive: false },
  cluster_private_endpoint: { value: '172.16.0.2', sensitive: true },
  cluster_ca_certificate: { value: 'LS0tLS1CRUdJTg==', sensitive: true },
  jenkins_instance_name: { value: 'caption-platform-jenkins', sensitive: false },
  jenkins_zone: { value: 'projects/p/zones/europe-west1-b', sensitive: false },
  jenkins_service_account_email: {
    value: 'caption-platform-jenkins@p.iam.gserviceaccount.com',
    sensitive: false,
  },
  image_repository: {
    value: 'europe-west1-docker.pkg.dev/p/caption/caption-service',
    sensitive: false,
  },
};

describe('inventory from terraform outputs', () => {
  it('puts the Jenkins VM in the jenkins group at its static IP', () => {
    const inv = parse(inventoryFromOutputs(outputs));
    expect(inv.all.children.jenkins.hosts).toEqual({
      'caption-platform-jenkins': {
        ansible_host: '35.4.5.6',
        gcp_zone: 'europe-west1-b',
        gcp_service_account: 'caption-platform-jenkins@p.iam.gserviceaccount.com',
      },
    });
    expect(inv.all.children.jenkins.vars).toEqual({
      image_repository: outputs.image_repository.value,
      cluster_private_endpoint: '172.16.0.2',
      cluster_ca_certificate: 'LS0tLS1CRUdJTg==',
      jenkins_internal_ip: '10.40.0.2',
    });
  });

  it('never copies sensitive outputs into the inventory', () => {
    expect(inventoryFromOutputs(outputs)).not.toContain('34.1.2.3');
  });

  it('refuses incomplete outputs', () => {
    const rest: Record<string, { value: unknown; sensitive: boolean }> = { ...outputs };
    delete rest.jenkins_external_ip;
    expect(() => inventoryFromOutputs(rest)).toThrow(/lack jenkins_external_ip/);
    expect(() =>
      inventoryFromOutputs({
        ...outputs,
        jenkins_external_ip: { value: 'not-an-ip', sensitive: false },
      }),
    ).toThrow(/not an IPv4/);
  });
});

/** clouds.yaml for the stock clients (openstack, nova via --os-cloud, openstacksdk): demo and admin accounts. */
export interface CloudAccount { cloud: string; username: string; password: string; project: string; }

const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar

export function cloudsYaml(authUrl: string, region: string, accounts: CloudAccount[]): string {
  const lines = ['clouds:'];
  for (const a of accounts) {
    lines.push(
      `  ${a.cloud}:`,
      '    auth_type: password',
      '    auth:',
      `      auth_url: ${q(authUrl)}`,
      `      username: ${q(a.username)}`,
      `      password: ${q(a.password)}`,
      `      project_name: ${q(a.project)}`,
      '      user_domain_name: Default',
      '      project_domain_name: Default',
      `    region_name: ${q(region)}`,
      '    interface: public',
      '    identity_api_version: 3',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Debian's openstack, nova and openstacksdk clients, run against a clouds.yaml with a clean environment. */
import { execa } from 'execa';

export interface CliResult { stdout: string; stderr: string; exitCode: number; }

export class StockClients {
  constructor(readonly cloudsYaml: string, private readonly home: string) {}

  /** `openstack --os-cloud <cloud> ...args`, with `-f json` parsed for commands that print a resource or list */
  async openstack<T = any>(args: string[], cloud = 'novalet'): Promise<T> {
    const json = wantsJson(args);
    const r = await this.cli('openstack', ['--os-cloud', cloud, ...args, ...(json ? ['-f', 'json'] : [])]);
    if (r.exitCode !== 0) throw new Error(`openstack ${args.join(' ')} -> ${r.exitCode}: ${r.stderr}`);
    return (json && r.stdout.trim() ? JSON.parse(r.stdout) : undefined) as T;
  }

  /** novaclient reads no clouds.yaml: the account as OS_* variables */
  nova(args: string[], authUrl: string, user: string, password: string, project = user): Promise<CliResult> {
    return this.cli('nova', args, {
      OS_AUTH_URL: authUrl, OS_USERNAME: user, OS_PASSWORD: password, OS_PROJECT_NAME: project,
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3', OS_REGION_NAME: 'RegionOne',
    });
  }

  cli(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return execa(cmd, args, {
      reject: false, timeout: 180_000,
      // Debian's clients run on /usr/bin/python3; keep pyenv's python and any OS_* of the caller out of it
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: this.home, OS_CLIENT_CONFIG_FILE: this.cloudsYaml, ...extraEnv },
      extendEnv: false,
    }).then((r) => ({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 }));
  }
}

/** commands that print a resource or a list take -f json; actions print nothing */
function wantsJson(args: string[]): boolean {
  return !args.includes('-f') && args.some((a) => a === 'list' || a === 'show' || a === 'create' || a === 'rebuild');
}

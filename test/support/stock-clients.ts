/**
 * The stock Debian clients, run as a user runs them: `openstack --os-cloud X ... -f json`, `nova --os-cloud X`,
 * and openstacksdk scripts under /usr/bin/python3 (the python3 on PATH may be another build that cannot import
 * them). Only OS_CLIENT_CONFIG_FILE points them at the cloud; any OS_* of the caller's environment is dropped.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
/** what the clients need of a cloud: its clouds.yaml (clouds `novalet` = demo and `novalet-admin`, or others) */
export interface CloudsFile { cloudsYaml: string; }

export const OPENSTACK = '/usr/bin/openstack';
export const NOVA = '/usr/bin/nova';
export const PYTHON = '/usr/bin/python3';

export interface Run { code: number; stdout: string; stderr: string; ms: number; }

export class ClientError extends Error {
  constructor(readonly argv: string[], readonly run: Run) {
    super(`${argv.join(' ')} -> exit ${run.code}\n${run.stderr.trim() || run.stdout.trim()}`);
  }
}

/**
 * The settings of each cloud in a clouds.yaml as written for novalet (two levels of `key: value` under
 * `clouds:`, scalars bare or JSON-quoted): {novalet: {auth_url, username, ..., region_name, interface}}.
 */
export function readClouds(path: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cloud: Record<string, string> | null = null;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\s*)([A-Za-z0-9_.-]+):\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, indent, key, raw] = m;
    if (indent!.length === 2) { cloud = {}; out[key!] = cloud; continue; }
    if (!cloud || raw === '') continue;
    cloud[key!] = raw!.startsWith('"') ? JSON.parse(raw!) as string : raw!.replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/** novaclient has no --os-cloud: the account's settings as OS_* variables */
function novaEnv(cloud: CloudsFile, account: string): Record<string, string> {
  const c = readClouds(cloud.cloudsYaml)[account];
  if (!c) throw new Error(`no cloud ${account} in ${cloud.cloudsYaml}`);
  return {
    OS_AUTH_URL: c.auth_url!, OS_USERNAME: c.username!, OS_PASSWORD: c.password!, OS_PROJECT_NAME: c.project_name!,
    OS_USER_DOMAIN_NAME: c.user_domain_name ?? 'Default', OS_PROJECT_DOMAIN_NAME: c.project_domain_name ?? 'Default',
    OS_REGION_NAME: c.region_name ?? 'RegionOne', OS_ENDPOINT_TYPE: c.interface ?? 'public', OS_IDENTITY_API_VERSION: '3',
  };
}

function clientEnv(cloud: CloudsFile, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  env.OS_CLIENT_CONFIG_FILE = cloud.cloudsYaml;
  env.PYTHONWARNINGS = 'ignore';
  return { ...env, ...extra };
}

export function exec(cloud: CloudsFile, file: string, argv: string[], input?: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = execFile(file, argv, { env: clientEnv(cloud, extraEnv), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The fields of `openstack server show -f json` that waiting looks at (the rest as the client prints it). */
export interface ServerShown { id: string; name: string; status: string; 'OS-EXT-STS:task_state'?: string | null; fault?: unknown; [field: string]: unknown }

/** A client bound to one cloud and one account ('novalet' = demo, 'novalet-admin' = admin). */
export class Clients {
  constructor(readonly cloud: CloudsFile, readonly account = 'novalet') {}

  as(account: string): Clients { return new Clients(this.cloud, account); }

  /** `openstack --os-cloud <account> <args> -f json`, parsed; throws ClientError on a non-zero exit */
  async os<T = any>(...args: string[]): Promise<T> {
    const out = await this.osRaw(...args, '-f', 'json');
    // --wait prints "Progress: N" lines before the document
    const start = out.search(/^[[{]/m);
    return (start < 0 ? null : JSON.parse(out.slice(start))) as T;
  }

  /** `openstack <args>`: parsed JSON for commands that print a resource or a list, nothing for actions */
  async run<T = any>(...args: string[]): Promise<T> {
    const prints = args.some((a) => a === 'list' || a === 'show' || a === 'create' || a === 'rebuild');
    return (prints ? await this.os<T>(...args) : (await this.osRaw(...args), undefined)) as T;
  }

  /**
   * Polls `openstack server show` every 500 ms until the server has `status` and no task. Fails at once on ERROR
   * (unless ERROR is wanted) and at the deadline, with the last view and `context()` (e.g. a log tail).
   */
  async waitStatus<T extends ServerShown = ServerShown>(name: string, status: string, o: { timeoutMs: number; context?: () => string }): Promise<T> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      const s = await this.os<T>('server', 'show', name);
      if (s.status === status && !s['OS-EXT-STS:task_state']) return s;
      const failed = s.status === 'ERROR' && status !== 'ERROR';
      if (failed || Date.now() > deadline) {
        throw new Error(`${name}: ${failed ? 'went to ERROR' : `still ${s.status}/${s['OS-EXT-STS:task_state']} after ${o.timeoutMs} ms`} waiting for ${status}: ${JSON.stringify(s.fault ?? s)}${o.context ? `\n${o.context()}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** `openstack` for commands without output (stop, start, set ...); returns stdout */
  async osRaw(...args: string[]): Promise<string> {
    const argv = ['--os-cloud', this.account, ...args];
    const r = await exec(this.cloud, OPENSTACK, argv);
    if (r.code !== 0) throw new ClientError(['openstack', ...argv], r);
    return r.stdout;
  }

  /** `openstack` expected to fail: returns the run (exit code and stderr) */
  async osFails(...args: string[]): Promise<Run> {
    const r = await exec(this.cloud, OPENSTACK, ['--os-cloud', this.account, ...args]);
    if (r.code === 0) throw new Error(`openstack ${args.join(' ')} succeeded, expected a failure:\n${r.stdout}`);
    return r;
  }

  /** `nova <args>` as the account (OS_* from the clouds.yaml); returns stdout (tables: see parseTable) */
  async nova(...args: string[]): Promise<string> {
    const r = await this.novaRun(...args);
    if (r.code !== 0) throw new ClientError(['nova', ...args], r);
    return r.stdout;
  }

  /** `nova <args>` whatever its exit code (for refusals) */
  novaRun(...args: string[]): Promise<Run> {
    return exec(this.cloud, NOVA, args, undefined, novaEnv(this.cloud, this.account));
  }

  /**
   * Runs an openstacksdk script with `conn = openstack.connect(cloud=<account>)` prepared; the script prints one
   * JSON document per line with emit(x); returns them in order.
   */
  async sdk(script: string): Promise<any[]> {
    const prelude = [
      'import json, sys, openstack',
      `conn = openstack.connect(cloud=${JSON.stringify(this.account)})`,
      'def emit(x):',
      '    print(json.dumps(x, default=str), flush=True)',
      '',
    ].join('\n');
    const r = await exec(this.cloud, PYTHON, ['-'], `${prelude}${script}\n`);
    if (r.code !== 0) throw new ClientError(['python3', '<sdk script>'], r);
    return r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  }
}

/**
 * A prettytable as nova prints it:
 *   +----+------+
 *   | ID | Name |
 *   +----+------+
 *   | x  | y    |
 * -> [{ID: 'x', Name: 'y'}]. Multi-line cells (continuation rows with an empty first column) are joined by '\n'.
 */
export function parseTable(text: string): Array<Record<string, string>> {
  const rows = text.split('\n').filter((l) => l.startsWith('|')).map((l) => l.slice(1, -1).split('|').map((c) => c.trim()));
  if (rows.length === 0) return [];
  const [head, ...body] = rows;
  const out: Array<Record<string, string>> = [];
  for (const r of body) {
    if (r[0] === '' && out.length > 0) {
      const prev = out[out.length - 1]!;
      head!.forEach((h, i) => { if (r[i]) prev[h] = prev[h] ? `${prev[h]}\n${r[i]}` : r[i]!; });
      continue;
    }
    out.push(Object.fromEntries(head!.map((h, i) => [h, r[i] ?? ''])));
  }
  return out;
}

/** nova's two-column "Property | Value" tables (show) as an object */
export function parseProperties(text: string): Record<string, string> {
  return Object.fromEntries(parseTable(text).map((r) => [r.Property!, r.Value!]));
}

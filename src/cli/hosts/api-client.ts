/**
 * A small admin client of the compute API for `novalet hosts`: credentials from a clouds.yaml in the form novalet
 * writes (`novalet up`, `novalet testbed up`: JSON scalars, two-space indentation) or from OS_* variables, a
 * Keystone v3 password token, the compute endpoint from the token's catalog.
 */
import { readFileSync } from 'node:fs';

export interface Credentials { authUrl: string; username: string; password: string; projectName: string; userDomain: string; projectDomain: string; }

/** the nested mapping of a simple YAML document (scalars are plain words or JSON strings) */
function parseSimpleYaml(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const stack: Array<{ indent: number; obj: Record<string, unknown> }> = [{ indent: -1, obj: root }];
  for (const raw of text.split('\n')) {
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const m = /^([^:]+):\s*(.*)$/.exec(raw.trim());
    if (!m) continue;
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const parent = stack[stack.length - 1]!.obj;
    const key = m[1]!.trim();
    const value = m[2]!.trim();
    if (value === '') {
      const child: Record<string, unknown> = {};
      parent[key] = child;
      stack.push({ indent, obj: child });
    } else {
      parent[key] = value.startsWith('"') ? JSON.parse(value) as unknown : value;
    }
  }
  return root;
}

export function credentialsFrom(o: { cloudsFile?: string; cloud?: string; env: NodeJS.ProcessEnv }): Credentials {
  const file = o.cloudsFile ?? o.env['OS_CLIENT_CONFIG_FILE'];
  if (file) {
    const doc = parseSimpleYaml(readFileSync(file, 'utf8')) as { clouds?: Record<string, { auth?: Record<string, string> }> };
    const name = o.cloud ?? o.env['OS_CLOUD'] ?? 'novalet-admin';
    const auth = doc.clouds?.[name]?.auth;
    if (!auth) throw new Error(`${file}: no cloud ${name}`);
    return {
      authUrl: auth['auth_url']!, username: auth['username']!, password: auth['password']!, projectName: auth['project_name']!,
      userDomain: auth['user_domain_name'] ?? 'Default', projectDomain: auth['project_domain_name'] ?? 'Default',
    };
  }
  const need = (k: string) => { const v = o.env[k]; if (!v) throw new Error(`set OS_CLIENT_CONFIG_FILE (with --os-cloud) or ${k}`); return v; };
  return {
    authUrl: need('OS_AUTH_URL'), username: need('OS_USERNAME'), password: need('OS_PASSWORD'), projectName: need('OS_PROJECT_NAME'),
    userDomain: o.env['OS_USER_DOMAIN_NAME'] ?? 'Default', projectDomain: o.env['OS_PROJECT_DOMAIN_NAME'] ?? 'Default',
  };
}

export class ComputeClient {
  private constructor(private readonly token: string, private readonly endpoint: string) {}

  static async login(c: Credentials): Promise<ComputeClient> {
    const r = await fetch(`${c.authUrl.replace(/\/$/, '')}/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: {
        identity: { methods: ['password'], password: { user: { name: c.username, domain: { name: c.userDomain }, password: c.password } } },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomain } } },
      } }),
    });
    if (r.status !== 201) throw new Error(`login as ${c.username}: HTTP ${r.status} ${await r.text()}`);
    const token = r.headers.get('x-subject-token')!;
    const body = await r.json() as { token: { catalog?: Array<{ type: string; endpoints: Array<{ interface: string; url: string }> }> } };
    const compute = body.token.catalog?.find((s) => s.type === 'compute')?.endpoints.find((e) => e.interface === 'public')?.url;
    if (!compute) throw new Error('the token has no compute endpoint');
    return new ComputeClient(token, compute.replace(/\/$/, ''));
  }

  /** a compute API call at a microversion; the parsed body, or an Error with the API's message */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, version = '2.80'): Promise<T> {
    const r = await fetch(`${this.endpoint}${path}`, {
      method, headers: { 'x-auth-token': this.token, 'openstack-api-version': `compute ${version}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    if (r.status >= 400) {
      let msg = text;
      try { msg = (Object.values(JSON.parse(text) as Record<string, { message?: string }>)[0]?.message) ?? text; } catch { /* not JSON */ }
      throw new Error(`${msg} (HTTP ${r.status})`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/**
 * A cluster for the end-to-end suites, every part a separate process started through the real CLI:
 * `novalet sim-hosts` (N simulated hosts, each a real agent behind the real RPC server on its own port) and
 * `novalet controller` (API + RPC driver + heartbeats + scheduler) pointed at them. The bench process is only
 * the client, so /proc of each child is that component's memory alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NETWORK } from '../../src/controller/config.js';
import { Api } from './http.js';
import { freePort, startNovalet, type Child } from './proc.js';

export const ADMIN_PW = 'bench-admin-password';
export const DEMO_PW = 'bench-demo-password';
/** a /16 so hundreds of API creates never run out of fixed IPs */
export const BENCH_NETWORK = { ...DEFAULT_NETWORK, cidr: '10.0.0.0/16' };

export interface Cluster {
  dir: string;
  secret: string;
  sim: Child;
  controller: Child;
  url: string;
  dbFile: string;
  hosts: number;
  close(): Promise<void>;
}

export async function startSim(dir: string, secretFile: string, count: number): Promise<{ child: Child; urls: string[] }> {
  let child: Child | undefined;
  // a port of the range can still be taken between the probe and the listen: another range then
  for (let attempt = 0; !child; attempt++) {
    const basePort = await freePort(count);
    try {
      child = await startNovalet(['sim-hosts', '--count', String(count), '--base-port', String(basePort), '--secret-file', secretFile,
        '--data-dir', join(dir, `sim-${attempt}`), '--log-level', 'warn'], (lines) => lines.length >= count);
    } catch (err) {
      if (attempt >= 2 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
  const urls = child.lines.slice(0, count).map((l) => (JSON.parse(l) as { url: string }).url);
  return { child, urls };
}

export async function startCluster(hosts: number, opts: { heartbeatIntervalSeconds?: number } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(process.env['NOVALET_BENCH_TMP'] ?? tmpdir(), 'novalet-bench-'));
  const secret = `bench-secret-${process.pid}-${Date.now()}`;
  const secretFile = join(dir, 'cluster-secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const dataDir = join(dir, 'controller');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'admin-password'), `${ADMIN_PW}\n`, { mode: 0o600 });
  writeFileSync(join(dataDir, 'demo-password'), `${DEMO_PW}\n`, { mode: 0o600 });
  let sim: Child | undefined;
  try {
    const s = await startSim(dir, secretFile, hosts);
    sim = s.child;
    const port = await freePort();
    const configFile = join(dir, 'controller.json');
    writeFileSync(configFile, JSON.stringify({
      agents: s.urls.map((url) => ({ url })), networks: [BENCH_NETWORK],
      // the suites measure token issue throughput: no per-user limit
      tokenIssueLimit: { burst: 1, perMinute: 0 },
      ...(opts.heartbeatIntervalSeconds ? { heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds } : {}),
    }));
    const url = `http://127.0.0.1:${port}`;
    const probe = new Api(url);
    const controller = await startNovalet(['controller', '--config', configFile, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
      '--secret-file', secretFile, '--log-level', 'warn'], async () => (await probe.request('GET', '/identity/v3')).status === 200);
    probe.close();
    const simChild = sim;
    return {
      dir, secret, sim: simChild, controller, url, dbFile: join(dataDir, 'controller.db'), hosts,
      close: async () => {
        await controller.stop();
        await simChild.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Logs in (project-scoped password token); returns the token and the project id. */
export async function login(api: Api, user: string, password: string, project: string): Promise<{ token: string; projectId: string; userId: string }> {
  const r = await api.expect(201, 'POST', '/identity/v3/auth/tokens', {
    auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
      scope: { project: { name: project, domain: { name: 'Default' } } } },
  });
  return { token: String(r.headers['x-subject-token']), projectId: r.body.token.project.id, userId: r.body.token.user.id };
}

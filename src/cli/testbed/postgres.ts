/**
 * The testbed's own PostgreSQL (`novalet testbed up --store postgres`): scripts/postgres.sh with its data under the
 * testbed's directory, listening on loopback and on the root end of the testbed's controller veth, trusting only
 * that veth pair's /30 (the controllers run in the bridge namespace, the seeding in the root one). Test use only: trust authentication, fsync off.
 */
import { execFile } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { NOVALET_BIN } from './processes.js';
import type { NovaletState } from './state.js';

const run = promisify(execFile);
const SCRIPT = join(dirname(dirname(NOVALET_BIN)), 'scripts', 'postgres.sh');

export interface TestbedPostgres { dir: string; port: number; url: string }

function env(pg: { dir: string; port: number }, link?: NovaletState['link']): NodeJS.ProcessEnv {
  return {
    ...process.env, NOVALET_PG_DIR: pg.dir, NOVALET_PG_PORT: String(pg.port), NOVALET_PG_DB: 'novalet',
    ...(link ? { NOVALET_PG_LISTEN: link.rootIp, NOVALET_PG_TRUST: `${linkNetwork(link.rootIp)}/30` } : {}),
  };
}

/** the veth pair's /30 (its root end is the network's first address) */
function linkNetwork(rootIp: string): string {
  const o = rootIp.split('.').map(Number);
  o[3] = o[3]! & 0xfc;
  return o.join('.');
}

/** a TCP port free on loopback now */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); });
  });
}

export async function startTestbedPostgres(testbedDir: string, link: NovaletState['link']): Promise<TestbedPostgres> {
  // the server runs as the postgres user: it must get through the testbed's directory to its own
  if ((statSync(testbedDir).mode & 0o001) === 0) chmodSync(testbedDir, (statSync(testbedDir).mode & 0o777) | 0o711);
  const pg = { dir: join(testbedDir, 'postgres'), port: await freePort() };
  const { stdout } = await run('bash', [SCRIPT, 'start'], { env: env(pg, link) });
  return { ...pg, url: stdout.trim().split('\n').pop()! };
}

export async function stopTestbedPostgres(pg: { dir: string; port: number }): Promise<void> {
  await run('bash', [SCRIPT, 'stop'], { env: env(pg) });
}

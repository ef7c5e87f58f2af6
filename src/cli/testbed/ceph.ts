/**
 * The testbed's own single-node Ceph (`novalet testbed up --storage ceph`): scripts/ceph.sh (1 mon, 1 mgr, 1 OSD
 * with bluestore on a file; pool `volumes`, cephx user client.novalet) run in the bridge namespace with its data
 * under DIR/ceph, bound to the controller link's bridge-side address: the controller (bridge namespace) reaches it
 * directly, every host through its route to that address over br0, the root namespace over the link's /30.
 * Nothing else does. The hosts need no Ceph configuration of their own: with each rbd disk the controller sends
 * them the monitors, the user and its key (the agent keeps the key as a libvirt secret); DIR/ceph's ceph.conf and
 * keyring are still at the same path on every host, as /etc/ceph would be, for an operator's `rbd --conf`.
 * `testbed down` (and a failed up) stop it with the bridge namespace's other processes, after the guests are
 * destroyed (cluster.ts stopAll), and remove DIR/ceph with DIR.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { NOVALET_BIN } from './processes.js';

const run = promisify(execFile);
const SCRIPT = join(dirname(dirname(NOVALET_BIN)), 'scripts', 'ceph.sh');

export interface TestbedCeph { dir: string; addr: string }

/** what the controller's `volumes.rbd` names */
export function cephRbdConfig(c: TestbedCeph): { pool: string; user: string; conf: string; keyring: string } {
  return { pool: 'volumes', user: 'novalet', conf: join(c.dir, 'ceph.conf'), keyring: join(c.dir, 'ceph.client.novalet.keyring') };
}

/** starts it (HEALTH_OK in ~17-20 s); a failure leaves pid files that stopTestbedCeph finds */
export async function startTestbedCeph(testbedDir: string, bridgeNetns: string, addr: string): Promise<TestbedCeph> {
  const c = { dir: join(testbedDir, 'ceph'), addr };
  await run('ip', ['netns', 'exec', bridgeNetns, 'bash', SCRIPT, 'start', c.dir, addr], { maxBuffer: 16 << 20 });
  return c;
}

/** the cluster answers (from the root namespace, over the link) */
export async function testbedCephRunning(c: TestbedCeph): Promise<boolean> {
  return run('bash', [SCRIPT, 'status', c.dir]).then(() => true, () => false);
}

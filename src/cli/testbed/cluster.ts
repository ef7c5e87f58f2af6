/**
 * `novalet testbed`: a novalet cluster on a testbed. Each host runs its own libvirtd (testbed.ts) and one
 * `novalet agent` inside the host's namespaces, listening on the host's address; one `novalet controller` runs
 * in the bridge namespace, reaches the agents on 10.77.0.0/24 and is reached from the root namespace through the
 * testbed's own veth (control-link.ts). Each host gets the all-in-one's NAT network (`novalet up`), so guests boot
 * with the address the API shows; DIR/shared is the storage every host sees at the same path (as NFS would be).
 *
 *   DIR/testbed.json  state (state.ts)           DIR/clouds.yaml   clouds novalet and novalet-admin
 *   DIR/cluster-secret                           DIR/controller/   controller data, config, admin/demo passwords
 *   DIR/logs/         controller.log, <host>-agent.log (each libvirtd: DIR/<host>/libvirtd.stdout.log and
 *                     DIR/<host>/log-libvirt/libvirtd.log)
 *   DIR/<host>/agent/ the agent's data (journal, instances, images); DIR/<host>/agent.json its config
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_NETWORK, defaultConfig, PREFIX } from '../../controller/config.js';
import { allInOneNetwork } from '../up-command.js';
import { cloudsYaml } from '../up/clouds-yaml.js';
import { seedGuestImages } from '../up/guest-images.js';
import { ensureNatNetwork } from '../up/nat-network.js';
import { fileSecret } from '../up/secrets.js';
import { startControllerProcess } from '../controller-process.js';
import { createLink, pickLink } from './control-link.js';
import { daemonPid, hostUri, nsenterArgs, startDaemon } from './libvirt-host.js';
import { startNovalet, stopNovalet } from './processes.js';
import { listDomains, powerOffNetns, sameProcess, waitGone } from './sys.js';
import { readState, stateFile, TESTBED_BASE, writeState, type HostState, type TestbedState } from './state.js';
import { createTestbed, teardown } from './testbed.js';
import { startTestbedPostgres, stopTestbedPostgres } from './postgres.js';
import { cephRbdConfig, startTestbedCeph, testbedCephRunning } from './ceph.js';

export const DEFAULT_TESTBED_DIR = join(TESTBED_BASE, 'default');
const AGENT_PORT = 8779;
const API_PORT = 8774;

export interface UpOptions {
  hosts: number; dir: string; guestDir: string; logLevel: string;
  /** the controller's liveMigration.bandwidthMiBs (slow migrations to watch or abort) */
  liveMigrationBandwidthMiBs?: number;
  /** controllers on one database (default 1): the API of the n-th on port 8774 + n */
  controllers?: number;
  /**
   * their store: default the first controller's SQLite file (controllers on one machine may share it), `postgres`
   * (a PostgreSQL of the testbed's own, data under DIR/postgres), or a postgres:// URL reachable from the testbed's
   * bridge namespace and from this process
   */
  store?: string;
  /** automatic evacuation on, after this many seconds down (controller config `evacuation`) */
  autoEvacuateDelaySec?: number;
  /**
   * where volumes live: `file` (default: DIR/shared/volumes) or `ceph` (a single-node Ceph of the testbed's own,
   * ceph.ts; the default volume type on rbd, file volumes still there for a type naming volume_backend_name=file)
   */
  storage?: 'file' | 'ceph';
}

const paths = (dir: string) => ({
  secret: join(dir, 'cluster-secret'),
  controller: join(dir, 'controller'),
  logs: join(dir, 'logs'),
  clouds: join(dir, 'clouds.yaml'),
});

export function hasTestbed(dir: string): boolean {
  return existsSync(stateFile(dir));
}

function network() {
  return allInOneNetwork();
}

async function startAgent(state: TestbedState, h: HostState, logLevel: string): Promise<void> {
  const p = paths(state.dir);
  const cfg = join(h.dir, 'agent.json');
  writeFileSync(cfg, JSON.stringify({
    dataDir: join(h.dir, 'agent'), runDir: join(h.dir, 'agent-run'), listenHost: h.ip, listenPort: AGENT_PORT,
    secretFile: p.secret, libvirtUri: hostUri(h.dir), logLevel,
    // live migration between testbed hosts: qemu+tcp to the peer's libvirtd on its private bridge address (only
    // the namespaced hosts reach it; src/agent/README.md "Live migration between hosts: authentication")
    liveMigrationScheme: 'tcp', liveMigrationInboundAddr: h.ip,
    // fencing: no new guest without a controller's heartbeat poll in the last 20 s (10 heartbeats)
    controllerLeaseSec: 20,
    // tenant networks: the VXLAN tunnels between hosts run over the testbed's private bridge
    tunnelIp: h.ip,
  }, null, 2));
  // the host's guest network comes back with its libvirtd (autostart); ensure it in case it was never made
  await ensureNatNetwork(hostUri(h.dir), network());
  const ref = await startNovalet(nsenterArgs(h, []), ['agent', '--config', cfg], join(p.logs, `${h.name}-agent.log`), '"agent ready"');
  state.novalet!.agents[h.name] = ref;
  writeState(state);
}

/** `novalet testbed up`: hosts, agents, controller, guest image, clouds.yaml. Anything half made is torn down on failure. */
export async function testbedUp(o: UpOptions, say: (line: string) => void): Promise<TestbedState> {
  if (hasTestbed(o.dir)) throw new Error(`a testbed is already up in ${o.dir} (novalet testbed status | down --data-dir ${o.dir})`);
  const t0 = Date.now();
  const tb = await createTestbed({ hosts: o.hosts, dir: o.dir, persistent: true, startTimeoutS: 60 });
  const state = readState(tb.dir);
  try {
    const p = paths(state.dir);
    say(`testbed ${state.prefix}: ${o.hosts} libvirtd host(s) up in ${state.dir}`);
    const link = await pickLink(state.prefix);
    const apiUrl = `http://${link.bridgeIp}:${API_PORT}`;
    state.novalet = { link, apiUrl, agents: {} };
    writeState(state);
    await createLink(link, state.bridgeNetns, state.hosts.map((h) => h.netns));
    mkdirSync(p.logs, { recursive: true });
    mkdirSync(p.controller, { recursive: true, mode: 0o700 });
    const secret = fileSecret(p.secret, 32);
    const passwords = { admin: fileSecret(join(p.controller, 'admin-password')), demo: fileSecret(join(p.controller, 'demo-password')) };
    for (const h of state.hosts) await startAgent(state, h, o.logLevel);
    say(`agents up on ${state.hosts.map((h) => `${h.name} (${h.ip})`).join(', ')}`);

    const net = network();
    const networks = [{ ...DEFAULT_NETWORK, cidr: net.cidr, gateway: net.gateway, libvirtNetwork: net.name }];
    // the guest image goes in before the controller daemon opens its database: the same code as `novalet up`
    let database = o.store ?? join(p.controller, 'controller.db');
    if (o.store === 'postgres') {
      // recorded before it starts: a failure half way still stops it
      state.novalet.postgres = { dir: join(state.dir, 'postgres'), port: 0 };
      const pg = await startTestbedPostgres(state.dir, link);
      state.novalet.postgres = { dir: pg.dir, port: pg.port };
      writeState(state);
      database = pg.url;
      say(`PostgreSQL up: ${pg.url} (data in ${pg.dir})`);
    }
    if (o.storage === 'ceph') {
      // recorded before it starts: a failure half way still stops it
      state.novalet.ceph = { dir: join(state.dir, 'ceph'), addr: link.bridgeIp };
      writeState(state);
      const t1 = Date.now();
      await startTestbedCeph(state.dir, state.bridgeNetns, link.bridgeIp);
      say(`Ceph up on ${link.bridgeIp} in ${Math.round((Date.now() - t1) / 1000)} s (data in ${state.novalet.ceph.dir}; pool volumes, user client.novalet)`);
    }
    const ceph = state.novalet.ceph;
    const imageDir = join(p.controller, 'images');
    const seeder = await startControllerProcess({
      dataDir: p.controller, listenHost: '127.0.0.1', listenPort: 0, secret, passwords, agents: [], config: { networks, imageDir },
      log: pino({ level: 'warn' }), databasePath: database,
    });
    try {
      await seedGuestImages(seeder.store, seeder.app.novalet.images, o.guestDir);
    } finally {
      await seeder.close();
    }
    // controller n (0 first): its own data dir and id, the API on 8774 + n; one database, one image directory, the
    // same bootstrap passwords (each start sets them to its files')
    const controllerConfig = (n: number): string => {
      const dataDir = n === 0 ? p.controller : `${p.controller}-${n + 1}`;
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (n > 0) for (const f of ['admin-password', 'demo-password']) copyFileSync(join(p.controller, f), join(dataDir, f));
      const cfg = join(dataDir, 'controller.json');
      writeFileSync(cfg, JSON.stringify({
        dataDir, listen: `0.0.0.0:${API_PORT + n}`, publicUrl: `http://${link.bridgeIp}:${API_PORT + n}`, secretFile: p.secret,
        agents: state.hosts.map((h) => ({ url: `http://${h.ip}:${AGENT_PORT}` })), networks, database, imageDir,
        heartbeatIntervalSeconds: 2, serviceDownTimeSeconds: 10, logLevel: o.logLevel,
        // file volumes on the storage every host sees (as an NFS mount of Cinder's volumes would be)
        // with --storage ceph: rbd for volumes of the default type (and a type naming volume_backend_name=rbd)
        volumes: { dir: join(state.dir, 'shared', 'volumes'), ...(ceph ? { rbd: cephRbdConfig(ceph), defaultBackend: 'rbd' } : {}) },
        ...(o.liveMigrationBandwidthMiBs ? { liveMigration: { bandwidthMiBs: o.liveMigrationBandwidthMiBs } } : {}),
        ...(o.autoEvacuateDelaySec !== undefined ? { evacuation: { auto: true, delaySeconds: o.autoEvacuateDelaySec, monitorIntervalSeconds: 1, maxServersPerHost: 10 } } : {}),
      }, null, 2));
      return cfg;
    };
    state.novalet.controller = await startController(state, controllerConfig(0));
    writeState(state);
    for (let n = 1; n < (o.controllers ?? 1); n++) {
      const extra = { apiUrl: `http://${link.bridgeIp}:${API_PORT + n}` };
      state.novalet.extraControllers = [...(state.novalet.extraControllers ?? []), extra];
      writeState(state);
      const ref = await startNovalet(['ip', 'netns', 'exec', state.bridgeNetns], ['controller', '--config', controllerConfig(n)], join(p.logs, `controller-${n + 1}.log`), '"controller ready"');
      state.novalet.extraControllers = state.novalet.extraControllers.map((x) => (x === extra ? { ...x, ref } : x));
      writeState(state);
      say(`controller ${n + 1} up: ${extra.apiUrl}`);
    }
    writeFileSync(p.clouds, cloudsYaml(`${apiUrl}${PREFIX.identity}/v3`, defaultConfig().region, [
      { cloud: 'novalet', username: 'demo', password: passwords.demo, project: 'demo' },
      { cloud: 'novalet-admin', username: 'admin', password: passwords.admin, project: 'admin' },
    ]), { mode: 0o600 });
    say(`controller up: ${apiUrl} (ready in ${Math.round((Date.now() - t0) / 1000)} s)`);
    say(`export OS_CLIENT_CONFIG_FILE=${p.clouds}; openstack --os-cloud novalet-admin hypervisor list`);
    return state;
  } catch (e) {
    await stopAll(state).catch(() => undefined);
    await teardown(state, false).catch(() => undefined);
    throw e;
  }
}

/** the first controller (its config written by up), in the bridge namespace; `env` its environment */
function startController(state: TestbedState, config: string, env: NodeJS.ProcessEnv = process.env) {
  return startNovalet(['ip', 'netns', 'exec', state.bridgeNetns], ['controller', '--config', config], join(paths(state.dir).logs, 'controller.log'), '"controller ready"', 120_000, env);
}

export interface RestartControllerOptions {
  /** SIGKILL, as a crash would (default: SIGTERM, a clean stop) */
  kill?: boolean;
  /** NOVALET_FAILPOINTS of the new process (crash tests); none when unset, whatever this process's environment has */
  failpoints?: string;
}

/**
 * `novalet testbed restart-controller`: the first controller stops (or is killed) and starts again on the same
 * config, data dir and id: it takes its unfinished tasks back at once and re-drives them with their request ids.
 */
export async function restartController(dir: string, o: RestartControllerOptions = {}): Promise<{ killed: number | null }> {
  const state = openState(dir);
  const n = state.novalet;
  if (!n) throw new Error(`no novalet cluster in the testbed in ${dir}`);
  const old = n.controller;
  let killed: number | null = null;
  if (sameProcess(old) && old) {
    if (o.kill) {
      process.kill(old.pid, 'SIGKILL');
      await waitGone([old.pid], 10_000);
      killed = old.pid;
    } else {
      await stopNovalet([old]);
    }
  }
  n.controller = undefined;
  writeState(state);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NOVALET_FAILPOINTS'];
  if (o.failpoints) env['NOVALET_FAILPOINTS'] = o.failpoints;
  n.controller = await startController(state, join(paths(state.dir).controller, 'controller.json'), env);
  writeState(state);
  return { killed };
}

async function stopAll(state: TestbedState): Promise<void> {
  const n = state.novalet;
  if (!n) return;
  await stopNovalet([n.controller, ...(n.extraControllers ?? []).map((c) => c.ref), ...Object.values(n.agents)]);
  if (n.postgres) await stopTestbedPostgres(n.postgres);
  // Ceph is not stopped here: its clients (QEMU's rbd disks) go first, with the domains in teardown, which then
  // kills what is left in the bridge namespace, Ceph's daemons included (their data goes with DIR); stopped before
  // its clients, it leaves each QEMU waiting on its I/O until libvirt kills it
}

/** `novalet testbed down`: false when there was no testbed (a second down) */
export async function testbedDown(dir: string): Promise<boolean> {
  if (!hasTestbed(dir)) return false;
  const state = readState(dir);
  await stopAll(state);
  await teardown(state, false);
  return true;
}

function hostOf(state: TestbedState, name: string): HostState {
  const h = state.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name} in the testbed (hosts: ${state.hosts.map((x) => x.name).join(', ')})`);
  return h;
}

export function openState(dir: string): TestbedState {
  if (!hasTestbed(dir)) throw new Error(`no testbed in ${dir} (novalet testbed up --data-dir ${dir})`);
  return readState(dir);
}

/** power loss: the agent, libvirtd, every QEMU and dnsmasq of the host SIGKILLed at once */
export async function killHost(dir: string, name: string): Promise<number[]> {
  const state = openState(dir);
  const h = hostOf(state, name);
  const pids = await powerOffNetns(h.netns);
  if (state.novalet) state.novalet.agents[h.name] = undefined;
  writeState(state);
  return pids;
}

/** the host comes back on the same disks: libvirtd (which restores its networks) then the agent */
export async function reviveHost(dir: string, name: string, logLevel: string): Promise<void> {
  const state = openState(dir);
  const h = hostOf(state, name);
  if (!daemonPid(h.dir)) await startDaemon(h, 60);
  if (state.novalet && !sameProcess(state.novalet.agents[h.name])) await startAgent(state, h, logLevel);
}

export interface TestbedStatus {
  prefix: string;
  dir: string;
  sharedDir: string;
  apiUrl: string | null;
  cloudsYaml: string | null;
  controller: boolean;
  /** controllers beyond the first: API URL and whether it runs */
  extraControllers: Array<{ apiUrl: string; running: boolean }>;
  /** the testbed's own Ceph (`--storage ceph`): monitor address, whether it answers, what its clients need */
  ceph: { addr: string; running: boolean; dir: string; conf: string; keyring: string; pool: string; user: string } | null;
  /** `domains`: the libvirt domains of the host (guests, running or not), empty while its libvirtd is down */
  hosts: Array<{ name: string; ip: string; netns: string; libvirtd: boolean; agent: boolean; libvirtUri: string; migrationUri: string; domains: string[] }>;
}

export async function testbedStatus(dir: string): Promise<TestbedStatus> {
  const state = openState(dir);
  const n = state.novalet;
  return {
    prefix: state.prefix, dir: state.dir, sharedDir: join(state.dir, 'shared'),
    apiUrl: n?.apiUrl ?? null,
    cloudsYaml: existsSync(paths(state.dir).clouds) ? paths(state.dir).clouds : null,
    controller: sameProcess(n?.controller),
    extraControllers: (n?.extraControllers ?? []).map((c) => ({ apiUrl: c.apiUrl, running: sameProcess(c.ref) })),
    ceph: n?.ceph ? { addr: n.ceph.addr, running: await testbedCephRunning(n.ceph), dir: n.ceph.dir, ...cephRbdConfig(n.ceph) } : null,
    hosts: await Promise.all(state.hosts.map(async (h) => {
      const libvirtd = daemonPid(h.dir) !== undefined;
      return {
        name: h.name, ip: h.ip, netns: h.netns, libvirtd, agent: sameProcess(n?.agents[h.name]),
        libvirtUri: hostUri(h.dir), migrationUri: `qemu+tcp://${h.ip}/system`,
        domains: libvirtd ? await listDomains(hostUri(h.dir)).catch(() => []) : [],
      };
    })),
  };
}

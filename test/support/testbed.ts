/**
 * Multi-host testbed: N "hypervisor hosts" on one machine, each with its own network namespace,
 * mount namespace and libvirtd (root only).
 *
 * Layout (BASE = $NOVALET_TESTBED_DIR or /var/lib/novalet-testbed):
 *   BASE/<prefix>/testbed.json           state, used by cleanupStaleTestbeds() after a crash
 *   BASE/<prefix>/shared/                "shared storage": same path on every host (not bind-mounted)
 *   BASE/<prefix>/<host>/{run,etc-libvirt,lib-libvirt,cache-libvirt,log-libvirt,sock}
 *     bind-mounted inside the host's mount namespace on /run, /etc/libvirt, /var/lib/libvirt,
 *     /var/cache/libvirt, /var/log/libvirt; sock/ holds libvirt-sock (reachable from the root namespace).
 * Network: netns <prefix>-br holds bridge br0; host i's netns <prefix>-h<i> has eth0 = 10.77.0.(i+1)/24
 * veth-paired to the bridge. No default route: traffic can only go to 10.77.0.0/24 inside these namespaces.
 * Each libvirtd listens on qemu+tcp (no auth, no TLS) on its own address; qemu.conf sets
 * migration_host/migration_address so live migration works between hosts.
 * QEMU processes survive libvirtd: destroy() destroys domains first, then kills every process left in
 * the host's netns, then deletes the namespaces.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type Result } from 'execa';
import { virsh, listDomains, destroyAndUndefine } from './virsh.js';

export const TESTBED_BASE = process.env['NOVALET_TESTBED_DIR'] || '/var/lib/novalet-testbed';
export const TESTBED_SUBNET = '10.77.0.0/24';
const NETNS_PREFIX = 'nvtb';

export interface TestbedHost {
  /** 'h0', 'h1', ... */
  name: string;
  /** 10.77.0.(i+1) */
  ip: string;
  /** private persistent directory of this host */
  dir: string;
  /** network namespace name */
  netns: string;
  /** from the root namespace: qemu:///system?socket=<dir>/sock/libvirt-sock */
  uri: string;
  /** between daemons (p2p migration destination): qemu+tcp://<ip>/system */
  migrationUri: string;
  /** libvirtd pid (root pid namespace) */
  pid(): number | undefined;
  /** Runs a command inside the host's network + mount namespaces. */
  exec(cmd: string[], opts?: { reject?: boolean; timeoutMs?: number }): Promise<Result>;
  /** Restarts this host's libvirtd (running QEMU processes keep running; /run persists). */
  restartDaemon(): Promise<void>;
  /** Kills this host's libvirtd with SIGKILL (simulates a daemon crash). */
  killDaemon(): Promise<void>;
}

export interface SharedDisk {
  /** backing image file in sharedDir */
  file: string;
  /** loop block device on top of it, e.g. /dev/loop3 (same path in every host's namespace) */
  device: string;
  format: 'raw' | 'qcow2';
}

export interface Testbed {
  prefix: string;
  /** base directory of this testbed */
  dir: string;
  /** Same path on all hosts: put migratable disks, kernels and console logs here. */
  sharedDir: string;
  hosts: TestbedHost[];
  /**
   * Creates an image in sharedDir and exposes it as a loop block device: "shared block storage"
   * (like an iSCSI/FC LUN) that libvirt accepts for live migration without copying storage
   * (use it as a GuestDisk {type: 'block', cache: 'none', format}). File disks on the local
   * filesystem are refused by libvirt ("Migration without shared storage is unsafe").
   * Loop devices are detached by destroy().
   */
  createSharedDisk(opts: { name: string; sizeMiB?: number; format?: 'raw' | 'qcow2' }): Promise<SharedDisk>;
  /** Destroys domains, kills daemons and QEMUs, deletes namespaces and (unless keepFiles) files. Idempotent. */
  destroy(opts?: { keepFiles?: boolean }): Promise<void>;
}

export interface CreateTestbedOptions {
  hosts: number;
  /** namespace/dir prefix; default nvtb<6 hex>. Must match /^nvtb[a-z0-9]{1,8}$/. */
  prefix?: string;
  /** seconds to wait for each libvirtd; default 30 */
  startTimeoutS?: number;
  /** Keep the testbed across the creating process's death (CLI use); cleanupStaleTestbeds skips it. */
  persistent?: boolean;
}

interface TestbedState {
  prefix: string;
  ownerPid: number;
  ownerStart: string;
  persistent: boolean;
  bridgeNetns: string;
  hosts: { name: string; netns: string; ip: string; dir: string }[];
}

async function run(cmd: string, args: string[], opts: { reject?: boolean; timeoutMs?: number } = {}): Promise<Result> {
  return execa(cmd, args, { reject: opts.reject ?? true, timeout: opts.timeoutMs ?? 60_000, env: { LC_ALL: 'C' } });
}

function procStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

async function netnsList(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { reject: false });
  return String(r.stdout).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout).split('\n').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function killNetnsProcesses(ns: string): Promise<void> {
  let pids = await netnsPids(ns);
  if (pids.length === 0) return;
  for (const p of pids) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
  for (let i = 0; i < 40; i++) {
    pids = pids.filter(pidAlive);
    if (pids.length === 0) return;
    await sleep(100);
  }
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  for (let i = 0; i < 50 && pids.some(pidAlive); i++) await sleep(100);
}

function libvirtdConf(h: { ip: string; dir: string }, uuid: string): string {
  return `# generated by test/support/testbed.ts
unix_sock_dir = "${h.dir}/sock"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
listen_tls = 0
listen_tcp = 1
listen_addr = "${h.ip}"
auth_tcp = "none"
host_uuid = "${uuid}"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
keepalive_interval = 5
keepalive_count = 5
`;
}

function qemuConf(ip: string): string {
  return `# generated by test/support/testbed.ts
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
stdio_handler = "file"
migration_host = "${ip}"
migration_address = "${ip}"
`;
}

const BINDS: [string, string][] = [
  ['run', '/run'],
  ['etc-libvirt', '/etc/libvirt'],
  ['lib-libvirt', '/var/lib/libvirt'],
  ['cache-libvirt', '/var/cache/libvirt'],
  ['log-libvirt', '/var/log/libvirt'],
];

function daemonScript(dir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const mounts = BINDS.map(([sub, target]) => `mount --bind ${q(`${dir}/${sub}`)} ${target}`).join(' && ');
  return `${mounts} && mkdir -p /run/libvirt && exec libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirtd.pid`;
}

async function startDaemon(h: { netns: string; dir: string; uri: string }, timeoutS: number): Promise<void> {
  rmSync(`${h.dir}/run/libvirtd.pid`, { force: true });
  const out = openSync(`${h.dir}/libvirtd.stdout.log`, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', h.netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', daemonScript(h.dir)], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.on('error', () => undefined);
    child.unref();
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + timeoutS * 1000;
  let lastErr = '';
  while (Date.now() < deadline) {
    if (existsSync(`${h.dir}/sock/libvirt-sock`)) {
      try {
        await virsh(h.uri, ['version'], { timeoutMs: 10_000 });
        return;
      } catch (e) { lastErr = String(e); }
    }
    await sleep(200);
  }
  let log = '';
  try { log = readFileSync(`${h.dir}/libvirtd.stdout.log`, 'utf8').slice(-2000); } catch { /* none */ }
  throw new Error(`libvirtd in ${h.netns} did not answer within ${timeoutS}s: ${lastErr}\n${log}`);
}

/**
 * libvirtd probes QEMU's capabilities at start (~5-8 s, cached in /var/cache/libvirt/qemu/capabilities
 * and re-validated by libvirt against the QEMU/libvirt binaries and host). Seed each host's private
 * cache from the last testbed (or the root daemon) so daemons start in ~1 s.
 */
const CAPS_CACHE = `${TESTBED_BASE}/.qemu-capabilities`;
function seedCapsCache(dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const src of [CAPS_CACHE, '/var/cache/libvirt/qemu/capabilities']) {
    let files: string[] = [];
    try { files = readdirSync(src).filter((f) => f.endsWith('.xml')); } catch { continue; }
    if (files.length === 0) continue;
    for (const f of files) { try { copyFileSync(`${src}/${f}`, `${dest}/${f}`); } catch { /* best effort */ } }
    return;
  }
}
function saveCapsCache(src: string): void {
  try {
    const files = readdirSync(src).filter((f) => f.endsWith('.xml'));
    if (files.length === 0) return;
    mkdirSync(CAPS_CACHE, { recursive: true });
    for (const f of files) copyFileSync(`${src}/${f}`, `${CAPS_CACHE}/${f}`);
  } catch { /* best effort */ }
}

function daemonPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dir}/run/libvirtd.pid`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function teardown(state: TestbedState, base: string, keepFiles: boolean): Promise<void> {
  const existing = new Set(await netnsList());
  // 1. destroy domains through each daemon that still answers
  for (const h of state.hosts) {
    const uri = `qemu:///system?socket=${h.dir}/sock/libvirt-sock`;
    if (!daemonPid(h.dir)) continue;
    try {
      const doms = await listDomains(uri);
      for (const d of doms) await destroyAndUndefine(uri, d);
    } catch { /* daemon dead or hung: processes are killed below */ }
  }
  // 2. kill everything left in the hosts' namespaces (libvirtd, QEMU, dnsmasq), then the namespaces
  for (const h of state.hosts) {
    const pid = daemonPid(h.dir);
    if (pid) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  }
  for (const h of state.hosts) {
    const pid = daemonPid(h.dir);
    for (let i = 0; pid && i < 50 && pidAlive(pid); i++) await sleep(100);
    if (pid && pidAlive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    if (existing.has(h.netns)) {
      await killNetnsProcesses(h.netns);
      await run('ip', ['netns', 'del', h.netns], { reject: false });
    }
  }
  if (existing.has(state.bridgeNetns)) {
    await killNetnsProcesses(state.bridgeNetns);
    await run('ip', ['netns', 'del', state.bridgeNetns], { reject: false });
  }
  await detachLoops(`${base}/shared`);
  if (!keepFiles) rmSync(base, { recursive: true, force: true });
}

/** Detaches every loop device backed by a file in dir. */
async function detachLoops(dir: string): Promise<void> {
  const r = await run('losetup', ['-l', '-n', '-O', 'NAME,BACK-FILE'], { reject: false });
  for (const line of String(r.stdout).split('\n')) {
    const m = /^(\/dev\/loop\d+)\s+(.*?)\s*$/.exec(line);
    if (!m || !m[2]) continue;
    const back = m[2].replace(/ \(deleted\)$/, '');
    if (back.startsWith(`${dir}/`)) await run('losetup', ['-d', m[1] ?? ''], { reject: false });
  }
}

async function createSharedDisk(sharedDir: string, opts: { name: string; sizeMiB?: number; format?: 'raw' | 'qcow2' }): Promise<SharedDisk> {
  if (!/^[A-Za-z0-9._-]+$/.test(opts.name)) throw new Error(`bad shared disk name '${opts.name}'`);
  const format = opts.format ?? 'raw';
  const file = `${sharedDir}/${opts.name}.${format === 'qcow2' ? 'qcow2' : 'img'}`;
  const size = opts.sizeMiB ?? 64;
  if (format === 'qcow2') {
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `size=${size}M,preallocation=metadata`, file]);
    // the loop device must cover the image's full potential size
    await run('truncate', ['-s', `>${size + 16}M`, file]);
  } else {
    await run('truncate', ['-s', `${size}M`, file]);
  }
  const r = await run('losetup', ['-f', '--show', file]);
  return { file, device: String(r.stdout).trim(), format };
}

function hostObject(h: { name: string; ip: string; dir: string; netns: string }, timeoutS: number): TestbedHost {
  const uri = `qemu:///system?socket=${h.dir}/sock/libvirt-sock`;
  const host: TestbedHost = {
    ...h,
    uri,
    migrationUri: `qemu+tcp://${h.ip}/system`,
    pid: () => daemonPid(h.dir),
    async exec(cmd, opts = {}) {
      const pid = daemonPid(h.dir);
      const args = pid
        ? ['nsenter', '--target', String(pid), '--mount', '--net', '--', ...cmd]
        : ['ip', 'netns', 'exec', h.netns, ...cmd]; // no daemon: netns only
      const [bin, ...rest] = args;
      return run(bin ?? 'true', rest, opts);
    },
    async killDaemon() {
      const pid = daemonPid(h.dir);
      if (!pid) return;
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
    },
    async restartDaemon() {
      const pid = daemonPid(h.dir);
      if (pid) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(100);
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      await startDaemon({ netns: h.netns, dir: h.dir, uri }, timeoutS);
    },
  };
  return host;
}

/** Testbeds created by this process and not yet destroyed (torn down on SIGINT/SIGTERM). */
const live = new Set<() => Promise<void>>();
let signalsInstalled = false;
function installSignalCleanup(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      const all = [...live].map((d) => d().catch(() => undefined));
      void Promise.all(all).finally(() => process.kill(process.pid, sig));
    });
  }
}

/** Creates a testbed of N hosts (root only). On failure, everything created so far is torn down. */
export async function createTestbed(opts: CreateTestbedOptions): Promise<Testbed> {
  const n = opts.hosts;
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new Error(`hosts must be 1..200, got ${n}`);
  if (process.getuid?.() !== 0) throw new Error('createTestbed needs root');
  const prefix = opts.prefix ?? `${NETNS_PREFIX}${randomBytes(3).toString('hex')}`;
  if (!/^nvtb[a-z0-9]{1,8}$/.test(prefix)) throw new Error(`bad testbed prefix '${prefix}' (want /^nvtb[a-z0-9]{1,8}$/)`);
  const timeoutS = opts.startTimeoutS ?? 30;
  const base = `${TESTBED_BASE}/${prefix}`;
  if (existsSync(base)) throw new Error(`testbed ${prefix} already exists at ${base}`);
  const sharedDir = `${base}/shared`;
  mkdirSync(sharedDir, { recursive: true });

  const state: TestbedState = {
    prefix,
    ownerPid: process.pid,
    ownerStart: procStart(process.pid),
    persistent: opts.persistent ?? false,
    bridgeNetns: `${prefix}-br`,
    hosts: Array.from({ length: n }, (_, i) => ({
      name: `h${i}`,
      netns: `${prefix}-h${i}`,
      ip: `10.77.0.${i + 1}`,
      dir: `${base}/h${i}`,
    })),
  };
  writeFileSync(`${base}/testbed.json`, JSON.stringify(state, null, 2));

  let destroyed = false;
  const destroy = async (o: { keepFiles?: boolean } = {}) => {
    if (destroyed) return;
    destroyed = true;
    live.delete(destroy);
    await teardown(state, base, o.keepFiles ?? false);
  };
  if (!state.persistent) {
    live.add(destroy);
    installSignalCleanup();
  }

  try {
    const br = state.bridgeNetns;
    await run('ip', ['netns', 'add', br]);
    await run('ip', ['-n', br, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
    for (const [i, h] of state.hosts.entries()) {
      for (const [sub] of BINDS) mkdirSync(`${h.dir}/${sub}`, { recursive: true });
      mkdirSync(`${h.dir}/sock`, { recursive: true });
      mkdirSync(`${h.dir}/etc-libvirt/qemu`, { recursive: true });
      seedCapsCache(`${h.dir}/cache-libvirt/qemu/capabilities`);
      writeFileSync(`${h.dir}/etc-libvirt/libvirtd.conf`, libvirtdConf(h, randomUUID()));
      writeFileSync(`${h.dir}/etc-libvirt/qemu.conf`, qemuConf(h.ip));
      await run('ip', ['netns', 'add', h.netns]);
      await run('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
      // created directly inside the namespaces: no name clash with the root namespace
      await run('ip', ['link', 'add', 'eth0', 'netns', h.netns, 'type', 'veth', 'peer', 'name', `v${i}`, 'netns', br]);
      await run('ip', ['-n', br, 'link', 'set', `v${i}`, 'master', 'br0']);
      await run('ip', ['-n', br, 'link', 'set', `v${i}`, 'up']);
      await run('ip', ['-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
    }
    const hosts = state.hosts.map((h) => hostObject(h, timeoutS));
    await Promise.all(hosts.map((h) => startDaemon({ netns: h.netns, dir: h.dir, uri: h.uri }, timeoutS)));
    saveCapsCache(`${state.hosts[0]!.dir}/cache-libvirt/qemu/capabilities`);
    return { prefix, dir: base, sharedDir, hosts, destroy, createSharedDisk: (o) => createSharedDisk(sharedDir, o) };
  } catch (e) {
    await destroy().catch(() => undefined);
    throw e;
  }
}

/**
 * XML of an isolated libvirt network (bridge + dnsmasq DHCP, no forwarding) for use INSIDE one testbed
 * host: 10.77.0.129/25, DHCP 10.77.0.140-200 (the hosts themselves use 10.77.0.1-127 on eth0, so at most
 * one such network per host). Create it with `virsh -c host.uri net-create file`; it dies with the testbed.
 */
export function isolatedNetworkXml(name = 'nvt-iso', bridge = 'nvtbr0'): string {
  return `<network>
  <name>${name}</name>
  <bridge name='${bridge}' stp='off'/>
  <ip address='10.77.0.129' netmask='255.255.255.128'>
    <dhcp><range start='10.77.0.140' end='10.77.0.200'/></dhcp>
  </ip>
</network>
`;
}

/** Re-attaches to an existing testbed (e.g. one created by `scripts/testbed.sh up`). */
export function openTestbed(prefix: string): Testbed {
  const base = `${TESTBED_BASE}/${prefix}`;
  const state = JSON.parse(readFileSync(`${base}/testbed.json`, 'utf8')) as TestbedState;
  let destroyed = false;
  return {
    prefix,
    dir: base,
    sharedDir: `${base}/shared`,
    hosts: state.hosts.map((h) => hostObject(h, 30)),
    createSharedDisk: (o) => createSharedDisk(`${base}/shared`, o),
    async destroy(o: { keepFiles?: boolean } = {}) {
      if (destroyed) return;
      destroyed = true;
      await teardown(state, base, o.keepFiles ?? false);
    },
  };
}

/** Prefixes of testbeds on disk. */
export function listTestbeds(): string[] {
  if (!existsSync(TESTBED_BASE)) return [];
  return readdirSync(TESTBED_BASE).filter((d) => /^nvtb[a-z0-9]{1,8}$/.test(d));
}

/**
 * Tears down testbeds left by crashed runs: those whose owner process is gone (unless persistent,
 * or `all` is set), plus orphan nvtb* namespaces without a state directory. Returns the prefixes removed.
 */
export async function cleanupStaleTestbeds(opts: { all?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  const known = new Set<string>();
  for (const prefix of listTestbeds()) {
    const base = `${TESTBED_BASE}/${prefix}`;
    let state: TestbedState | undefined;
    try { state = JSON.parse(readFileSync(`${base}/testbed.json`, 'utf8')) as TestbedState; } catch { state = undefined; }
    if (!state) {
      rmSync(base, { recursive: true, force: true });
      removed.push(prefix);
      continue;
    }
    const ownerAlive = pidAlive(state.ownerPid) && procStart(state.ownerPid) === state.ownerStart;
    if (!opts.all && (state.persistent || ownerAlive)) {
      known.add(state.bridgeNetns);
      for (const h of state.hosts) known.add(h.netns);
      continue;
    }
    await teardown(state, base, false);
    removed.push(prefix);
  }
  for (const ns of await netnsList()) {
    if (!/^nvtb[a-z0-9]{1,8}-(br|h\d+)$/.test(ns) || known.has(ns)) continue;
    await killNetnsProcesses(ns);
    await run('ip', ['netns', 'del', ns], { reject: false });
    const p = ns.replace(/-(br|h\d+)$/, '');
    if (!removed.includes(p)) removed.push(p);
  }
  return removed;
}

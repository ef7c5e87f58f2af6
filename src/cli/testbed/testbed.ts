/**
 * Multi-host testbed: N "hypervisor hosts" on one machine, each with its own network, mount and UTS namespace and
 * its own libvirtd (root only). `novalet testbed` runs a novalet cluster on it (cluster.ts); the integration tests
 * use it bare (test/support/testbed.ts).
 *
 * Layout (DIR = the --data-dir, or TESTBED_BASE/<prefix>; TESTBED_BASE = $NOVALET_TESTBED_DIR or /var/lib/novalet-testbed):
 *   DIR/testbed.json            state (state.ts); a DIR elsewhere is registered by the link TESTBED_BASE/<prefix> -> DIR
 *   DIR/shared/                 "shared storage": same path on every host, as an NFS mount would be
 *   DIR/<host>/{run,etc-libvirt,lib-libvirt,cache-libvirt,log-libvirt,sock}
 *     bind-mounted inside the host's mount namespace on /run, /etc/libvirt, /var/lib/libvirt,
 *     /var/cache/libvirt, /var/log/libvirt; sock/ holds libvirt-sock (reachable from the root namespace).
 * Network: netns <prefix>-br holds bridge br0; host i's netns <prefix>-h<i> has eth0 = 10.77.0.(i+1)/24
 * veth-paired to the bridge. No default route: traffic can only go to 10.77.0.0/24 inside these namespaces.
 * QEMU processes survive libvirtd: teardown destroys domains first, then kills every process left in the
 * namespaces, then deletes them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { destroyAndUndefine, detachLoops, killNetnsProcesses, listDomains, netnsList, pidAlive, procStart, run } from './sys.js';
import { BINDS, daemonPid, hostObject, hostUri, libvirtdConf, qemuConf, saveCapsCache, seedCapsCache, startDaemon, stopDaemon, type TestbedHost } from './libvirt-host.js';
import { PREFIX_RE, readState, TESTBED_BASE, writeState, type TestbedState } from './state.js';

export { TESTBED_BASE, TESTBED_SUBNET } from './state.js';
export type { TestbedHost } from './libvirt-host.js';

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
  /** the testbed's directory (must not exist, or be empty); default TESTBED_BASE/<prefix> */
  dir?: string;
  /** seconds to wait for each libvirtd; default 30 */
  startTimeoutS?: number;
  /** Keep the testbed across the creating process's death (CLI use); cleanupStaleTestbeds skips it. */
  persistent?: boolean;
}

const registryPath = (prefix: string) => `${TESTBED_BASE}/${prefix}`;

/** Destroys domains, stops every process in the testbed's namespaces, deletes them, detaches loops, removes files. */
export async function teardown(state: TestbedState, keepFiles: boolean): Promise<void> {
  const existing = new Set(await netnsList());
  // 1. destroy domains through each daemon that still answers
  for (const h of state.hosts) {
    if (!daemonPid(h.dir)) continue;
    const uri = hostUri(h.dir);
    try {
      for (const d of await listDomains(uri)) await destroyAndUndefine(uri, d);
    } catch { /* daemon dead or hung: processes are killed below */ }
  }
  // 2. stop the daemons, kill everything left in the namespaces (agents, QEMU, dnsmasq, controller), delete them
  await Promise.all(state.hosts.map((h) => stopDaemon(h.dir)));
  for (const ns of [...state.hosts.map((h) => h.netns), state.bridgeNetns]) {
    if (!existing.has(ns)) continue;
    await killNetnsProcesses(ns);
    await run('ip', ['netns', 'del', ns], { reject: false });
  }
  // deleting the bridge namespace deleted the veth into the root namespace; a half-made one goes here
  if (state.novalet) await run('ip', ['link', 'del', state.novalet.link.rootIf], { reject: false });
  await detachLoops(state.dir);
  if (keepFiles) return;
  unregister(state);
  if (state.createdDir) rmSync(state.dir, { recursive: true, force: true });
  else for (const f of readdirSync(state.dir)) rmSync(`${state.dir}/${f}`, { recursive: true, force: true });
}

function unregister(state: TestbedState): void {
  const reg = registryPath(state.prefix);
  try {
    if (lstatSync(reg).isSymbolicLink() && resolve(readlinkSync(reg)) === resolve(state.dir)) rmSync(reg, { force: true });
  } catch { /* no link */ }
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

function testbedOf(state: TestbedState, timeoutS: number, onDestroy?: () => void): Testbed {
  let destroyed = false;
  const sharedDir = `${state.dir}/shared`;
  const destroy = async (o: { keepFiles?: boolean } = {}) => {
    if (destroyed) return;
    destroyed = true;
    onDestroy?.();
    await teardown(state, o.keepFiles ?? false);
  };
  return {
    prefix: state.prefix, dir: state.dir, sharedDir,
    hosts: state.hosts.map((h) => hostObject(h, timeoutS)),
    createSharedDisk: (o) => createSharedDisk(sharedDir, o),
    destroy,
  };
}

/** Creates a testbed of N hosts (root only). On failure, everything created so far is torn down. */
export async function createTestbed(opts: CreateTestbedOptions): Promise<Testbed> {
  const n = opts.hosts;
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new Error(`hosts must be 1..200, got ${n}`);
  if (process.getuid?.() !== 0) throw new Error('a testbed needs root (network and mount namespaces)');
  const prefix = opts.prefix ?? `nvtb${randomBytes(3).toString('hex')}`;
  if (!PREFIX_RE.test(prefix)) throw new Error(`bad testbed prefix '${prefix}' (want /^nvtb[a-z0-9]{1,8}$/)`);
  const timeoutS = opts.startTimeoutS ?? 30;
  const dir = resolve(opts.dir ?? registryPath(prefix));
  const createdDir = !existsSync(dir);
  if (!createdDir && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty (a testbed already there? try status or down)`);
  if (existsSync(registryPath(prefix)) && dir !== registryPath(prefix)) throw new Error(`testbed ${prefix} already exists`);
  mkdirSync(`${dir}/shared`, { recursive: true });
  mkdirSync(TESTBED_BASE, { recursive: true });
  if (dir !== registryPath(prefix)) symlinkSync(dir, registryPath(prefix));

  const state: TestbedState = {
    prefix, dir, createdDir,
    ownerPid: process.pid,
    ownerStart: procStart(process.pid),
    persistent: opts.persistent ?? false,
    bridgeNetns: `${prefix}-br`,
    hosts: Array.from({ length: n }, (_, i) => ({ name: `h${i}`, netns: `${prefix}-h${i}`, ip: `10.77.0.${i + 1}`, dir: `${dir}/h${i}` })),
  };
  writeState(state);
  const tb = testbedOf(state, timeoutS, () => live.delete(tb.destroy));
  if (!state.persistent) {
    live.add(tb.destroy);
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
    await Promise.all(state.hosts.map((h) => startDaemon(h, timeoutS)));
    saveCapsCache(`${state.hosts[0]!.dir}/cache-libvirt/qemu/capabilities`);
    return tb;
  } catch (e) {
    await tb.destroy().catch(() => undefined);
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

/** Re-attaches to an existing testbed by prefix (registered in TESTBED_BASE) or by its directory. */
export function openTestbed(prefixOrDir: string): Testbed {
  const dir = PREFIX_RE.test(prefixOrDir) ? registryPath(prefixOrDir) : prefixOrDir;
  return testbedOf(readState(dir), 30);
}

/** Prefixes of testbeds registered in TESTBED_BASE. */
export function listTestbeds(): string[] {
  if (!existsSync(TESTBED_BASE)) return [];
  return readdirSync(TESTBED_BASE).filter((d) => PREFIX_RE.test(d));
}

/**
 * Tears down testbeds left by crashed runs: those whose owner process is gone (unless persistent,
 * or `all` is set), plus orphan nvtb* namespaces and root-namespace links without a state file.
 * Returns the prefixes removed.
 */
export async function cleanupStaleTestbeds(opts: { all?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  const known = new Set<string>();
  for (const prefix of listTestbeds()) {
    const reg = registryPath(prefix);
    let state: TestbedState | undefined;
    try { state = readState(reg); } catch { state = undefined; }
    if (!state) {
      rmSync(reg, { recursive: true, force: true });
      removed.push(prefix);
      continue;
    }
    const ownerAlive = pidAlive(state.ownerPid) && procStart(state.ownerPid) === state.ownerStart;
    if (!opts.all && (state.persistent || ownerAlive)) {
      known.add(state.prefix);
      continue;
    }
    await teardown(state, false);
    removed.push(prefix);
  }
  for (const ns of await netnsList()) {
    const m = /^(nvtb[a-z0-9]{1,8})-(br|h\d+)$/.exec(ns);
    if (!m || known.has(m[1]!)) continue;
    await killNetnsProcesses(ns);
    await run('ip', ['netns', 'del', ns], { reject: false });
    if (!removed.includes(m[1]!)) removed.push(m[1]!);
  }
  const links = String((await run('ip', ['-o', 'link', 'show'], { reject: false })).stdout);
  for (const m of links.matchAll(/^\d+: (nvtb[a-z0-9]{1,8})-c[@:]/gm)) {
    if (known.has(m[1]!)) continue;
    await run('ip', ['link', 'del', `${m[1]}-c`], { reject: false });
    if (!removed.includes(m[1]!)) removed.push(m[1]!);
  }
  return removed;
}

export { writeState, readState } from './state.js';

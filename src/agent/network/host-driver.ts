/**
 * Realises tenant networks on this host with the kernel's own objects: a bridge per network, a VXLAN device
 * (VNI of the network, head-end replication to `peers`), the DHCP server address on the bridge, one dnsmasq,
 * and the nftables elements; port filters by tap name. Every method converges ("make it so") and is safe to
 * repeat; what it creates is named by names.ts so that `presentLinks()` finds it again after a restart.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { NetworkSpec } from '../../rpc/protocol/networks.js';
import { dnsmasqConf, dnsmasqHosts, dnsmasqOpts, dhcpSubnets, dhcpSubnets6, type DnsmasqFiles } from './dnsmasq-config.js';
import { diffPeers, FLOOD_MAC, parseFloodPeers } from './fdb.js';
import type { HostExec } from './host-exec.js';
import { BRIDGE_PREFIX, bridgeName, VXLAN_PREFIX, vxlanName } from './names.js';
import { baseScript, dropAllScript, networkScript, portScript, removeNetworkScript, removePortScript, type PortNft } from './nft-rules.js';

export const VXLAN_PORT = 4789;

export interface HostDriverOptions {
  exec: HostExec;
  /** where each network's dnsmasq files live (`<stateDir>/<networkId>/`) */
  stateDir: string;
  log: Logger;
}

interface LinkInfo {
  ifname: string;
  mtu?: number;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string } };
  master?: string;
  operstate?: string;
}

export class HostNetworkDriver {
  private baseDone = false;

  constructor(private readonly o: HostDriverOptions) {}

  private ip = (...args: string[]): Promise<string> => this.o.exec.run('ip', args);
  nft = (script: string): Promise<string> => this.o.exec.run('nft', ['-f', '-'], script);

  dnsmasqFiles(networkId: string): DnsmasqFiles {
    const dir = join(this.o.stateDir, networkId);
    return { dir, conf: join(dir, 'dnsmasq.conf'), hosts: join(dir, 'hosts'), opts: join(dir, 'opts'), pid: join(dir, 'dnsmasq.pid') };
  }

  async ensureBase(): Promise<void> {
    if (this.baseDone) return;
    // security groups live in the inet family and see bridged traffic only through br_netfilter: with it off
    // every port would be open, so it is switched on (it is on by default on these kernels)
    for (const key of ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables']) {
      const v = (await this.o.exec.run('sysctl', ['-n', key])).trim();
      if (v !== '1') {
        this.o.log.warn({ key, was: v }, 'br_netfilter was off: switching it on for tenant port filters');
        await this.o.exec.run('sysctl', ['-qw', `${key}=1`]);
      }
    }
    await this.nft(baseScript());
    this.baseDone = true;
  }

  private async link(name: string): Promise<LinkInfo | undefined> {
    try {
      const out = await this.ip('-j', '-d', 'link', 'show', 'dev', name);
      return (JSON.parse(out) as LinkInfo[])[0];
    } catch {
      return undefined;
    }
  }

  /** Names of the bridges and VXLAN devices this agent created (by prefix), found after a restart. */
  async presentLinks(): Promise<string[]> {
    const links = JSON.parse(await this.ip('-j', 'link', 'show')) as LinkInfo[];
    return links.map((l) => l.ifname).filter((n) => n.startsWith(BRIDGE_PREFIX) || n.startsWith(VXLAN_PREFIX));
  }

  /** The bridge a port of this network attaches to (the operator's for flat networks). */
  bridgeOf(spec: Pick<NetworkSpec, 'type' | 'physicalNetwork'>, networkId: string, physicalNetworks: Record<string, string>): string {
    if (spec.type === 'vxlan') return bridgeName(networkId);
    const b = spec.physicalNetwork ? physicalNetworks[spec.physicalNetwork] : undefined;
    if (!b) throw new Error(`physical network ${spec.physicalNetwork ?? '(none)'} is not mapped to a bridge on this host (agent config physicalNetworks)`);
    return b;
  }

  async ensure(networkId: string, spec: NetworkSpec, o: { local: string | undefined; physicalNetworks: Record<string, string> }): Promise<void> {
    await this.ensureBase();
    if (spec.type === 'flat') {
      const br = this.bridgeOf(spec, networkId, o.physicalNetworks);
      if (!(await this.link(br))) throw new Error(`bridge ${br} of physical network ${spec.physicalNetwork ?? ''} does not exist on this host`);
      return;
    }
    const br = bridgeName(networkId);
    const vx = vxlanName(networkId);
    if (spec.vni === undefined) throw new Error('a vxlan network needs a vni');
    if (!(await this.link(br))) await this.ip('link', 'add', br, 'type', 'bridge', 'stp_state', '0');
    await this.ip('link', 'set', br, 'mtu', String(spec.mtu));
    const dhcp6 = dhcpSubnets6(spec.subnets);
    await this.setIpv6(br, dhcp6.length > 0);
    const cur = await this.link(vx);
    const data = cur?.linkinfo?.info_data;
    if (cur && (data?.id !== spec.vni || (o.local !== undefined && data?.local !== o.local))) {
      await this.ip('link', 'del', vx);
    }
    if (!cur || data?.id !== spec.vni || (o.local !== undefined && data?.local !== o.local)) {
      await this.ip('link', 'add', vx, 'type', 'vxlan', 'id', String(spec.vni), 'dstport', String(VXLAN_PORT),
        ...(o.local ? ['local', o.local] : []), 'nolearning');
    }
    await this.ip('link', 'set', vx, 'master', br, 'mtu', String(spec.mtu));
    await this.ip('link', 'set', vx, 'up');
    await this.ip('link', 'set', br, 'up');
    await this.syncPeers(vx, spec.peers.filter((p) => p !== o.local));
    const dhcp = dhcpSubnets(spec.subnets);
    await this.syncAddresses(br, dhcp.map((d) => `${d.server}/${d.prefix}`), 'inet');
    await this.syncAddresses(br, dhcp6.map((d) => `${d.server}/${d.prefix}`), 'inet6');
    await this.nft(networkScript({ bridge: br, vxlan: vx, dhcpAddresses: [...dhcp, ...dhcp6].map((d) => d.server) }));
    await this.syncDnsmasq(networkId, spec, br);
  }

  async setPeers(networkId: string, peers: readonly string[], local: string | undefined): Promise<void> {
    const vx = vxlanName(networkId);
    // not realised (yet): the next ensure (reconcile) makes it with the journaled peers
    if (!(await this.link(vx))) return;
    await this.syncPeers(vx, peers.filter((p) => p !== local));
  }

  private async syncPeers(vx: string, peers: readonly string[]): Promise<void> {
    const have = parseFloodPeers(await this.o.exec.run('bridge', ['fdb', 'show', 'dev', vx]));
    const d = diffPeers(have, peers);
    for (const p of d.add) await this.o.exec.run('bridge', ['fdb', 'append', FLOOD_MAC, 'dev', vx, 'dst', p]);
    for (const p of d.remove) await this.o.exec.run('bridge', ['fdb', 'del', FLOOD_MAC, 'dev', vx, 'dst', p]);
  }

  /**
   * The host takes part in a network only as its DHCP server: IPv6 on the bridge only where it serves an IPv6
   * subnet (RAs leave from its link-local), and then it never configures itself from what it hears there.
   */
  private async setIpv6(br: string, on: boolean): Promise<void> {
    const set = (k: string, v: number) => this.o.exec.run('sysctl', ['-qw', `net.ipv6.conf.${br}.${k}=${v}`]);
    if (!on) {
      await set('disable_ipv6', 1).catch(() => undefined);
      return;
    }
    await set('accept_ra', 0);
    await set('autoconf', 0);
    await set('forwarding', 0);
    await set('disable_ipv6', 0);
  }

  private async syncAddresses(br: string, want: string[], family: 'inet' | 'inet6'): Promise<void> {
    const info = JSON.parse(await this.ip('-j', 'addr', 'show', 'dev', br)) as { addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[] }[];
    const have = (info[0]?.addr_info ?? []).filter((a) => a.family === family && (family === 'inet' || a.scope === 'global')).map((a) => `${a.local}/${a.prefixlen}`);
    // every host has the same server address on the network (the tunnel guard keeps it local): no DAD across hosts
    const extra = family === 'inet6' ? ['nodad'] : [];
    for (const a of want) if (!have.includes(a)) await this.ip('addr', 'add', a, 'dev', br, ...extra);
    for (const a of have) if (!want.includes(a)) await this.ip('addr', 'del', a, 'dev', br);
  }

  private async dnsmasqPid(files: DnsmasqFiles): Promise<number | undefined> {
    const pid = Number((await readFile(files.pid, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    // the pid file may be stale: the process must still be our dnsmasq with this config
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.includes(files.conf) ? pid : undefined;
  }

  private async syncDnsmasq(networkId: string, spec: NetworkSpec, br: string): Promise<void> {
    const files = this.dnsmasqFiles(networkId);
    const pid = await this.dnsmasqPid(files);
    if (dhcpSubnets(spec.subnets).length === 0) {
      if (pid) await this.stopDnsmasq(files, pid);
      return;
    }
    await mkdir(files.dir, { recursive: true, mode: 0o755 });
    const input = { bridge: br, mtu: spec.mtu, subnets: spec.subnets, dhcpHosts: spec.dhcpHosts, files };
    const conf = dnsmasqConf(input);
    const changed = async (file: string, text: string): Promise<boolean> => {
      if ((await readFile(file, 'utf8').catch(() => null)) === text) return false;
      await writeFile(`${file}.tmp`, text, { mode: 0o644 });
      await rename(`${file}.tmp`, file);
      return true;
    };
    const confChanged = await changed(files.conf, conf);
    // both files written whatever the first one did (dnsmasq reads them as `nobody`: the state dir must be traversable)
    const hostsChanged = await changed(files.hosts, dnsmasqHosts(input));
    const optsChanged = await changed(files.opts, dnsmasqOpts(input));
    const reload = hostsChanged || optsChanged;
    if (pid && confChanged) await this.stopDnsmasq(files, pid);
    if (!pid || confChanged) {
      await checkTraversable(files.dir);
      await this.o.exec.daemon('dnsmasq', [`--conf-file=${files.conf}`]);
    } else if (reload) {
      process.kill(pid, 'SIGHUP');
    }
  }

  private async stopDnsmasq(files: DnsmasqFiles, pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 50; i++) {
      if (!(await this.dnsmasqPid(files))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }

  /** Removes everything of a network (spec: what the journal knew; absent: found by name only). */
  async remove(networkId: string, spec: NetworkSpec | undefined): Promise<void> {
    await this.ensureBase();
    const files = this.dnsmasqFiles(networkId);
    const pid = await this.dnsmasqPid(files);
    if (pid) await this.stopDnsmasq(files, pid);
    await rm(files.dir, { recursive: true, force: true });
    if (spec?.type === 'flat') return;
    const servers = spec ? [...dhcpSubnets(spec.subnets), ...dhcpSubnets6(spec.subnets)].map((d) => d.server) : [];
    await this.removeLinks(bridgeName(networkId), vxlanName(networkId), servers);
  }

  /** Deletes a network's devices and nft elements by name (also for orphans the journal no longer knows). */
  async removeLinks(br: string, vx: string, dhcpAddresses: string[]): Promise<void> {
    await this.nft(removeNetworkScript({ bridge: br, vxlan: vx, dhcpAddresses }));
    if (await this.link(vx)) await this.ip('link', 'del', vx);
    if (await this.link(br)) await this.ip('link', 'del', br);
  }

  async dropAll(): Promise<void> {
    await this.nft(dropAllScript());
    this.baseDone = false;
  }

  async installPort(p: PortNft): Promise<void> {
    await this.ensureBase();
    await this.nft(portScript(p));
  }

  async removePort(p: Pick<PortNft, 'tap' | 'markId'>): Promise<void> {
    await this.ensureBase();
    await this.nft(removePortScript(p));
  }

  /** Taps that have filter elements in the bridge table (to remove those of ports no longer journaled). */
  async filteredTaps(): Promise<Map<string, number>> {
    await this.ensureBase();
    const out = JSON.parse(await this.o.exec.run('nft', ['-j', 'list', 'map', 'bridge', 'novalet', 'egress_marks'])) as
      { nftables: { map?: { elem?: [string, number][] } }[] };
    const m = new Map<string, number>();
    for (const o of out.nftables) for (const [tap, mark] of o.map?.elem ?? []) m.set(tap, mark & 0x7fffff);
    return m;
  }

  /** Drops every dnsmasq state dir not in `keep` (networks the journal no longer knows), stopping its server. */
  async pruneStateDirs(keep: Set<string>): Promise<string[]> {
    const dirs = await readdir(this.o.stateDir).catch(() => [] as string[]);
    const gone = dirs.filter((d) => !keep.has(d));
    for (const d of gone) {
      const files = this.dnsmasqFiles(d);
      const pid = await this.dnsmasqPid(files);
      if (pid) await this.stopDnsmasq(files, pid);
      await rm(files.dir, { recursive: true, force: true });
    }
    return gone;
  }
}

/**
 * dnsmasq drops to `nobody` and reads its hosts and options files after that (at start and on every SIGHUP): a
 * directory on the way that others cannot search would leave DHCP silently answering no one. Refuse clearly instead.
 */
async function checkTraversable(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    const st = await stat(d);
    if ((st.mode & 0o001) === 0) throw new Error(`dnsmasq (user nobody) cannot reach ${dir}: ${d} is not searchable by others (chmod o+x ${d})`);
    if (dirname(d) === d) return;
  }
}

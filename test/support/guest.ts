/**
 * Test helpers for novalet's tiny real guest (built by scripts/build-guest.sh).
 *
 * The guest is a Debian cloud kernel plus a busybox initramfs. It talks to the tests
 * only through its serial console, which libvirt logs to a file (`<serial><log file=.. append='on'/>`).
 * Serial console protocol (one line each; keep in sync with scripts/build-guest.sh):
 *
 *   NOVALET-READY boot=<16 hex chars, random per boot>
 *   NOVALET-HEARTBEAT boot=<id> seq=<n> disks=<a,b> nics=<eth0,eth1> ips=<eth0:10.0.0.5,eth1:10.0.1.7>
 *       every second; seq restarts at 1 on every boot; disks = /sys/block minus loop and ram devices
 *       (kernel names in probe order: a single hot-plugged disk is 'vda' even if libvirt's target is 'vdb');
 *       nics = /sys/class/net minus lo; ips = IPv4 addresses without prefix length. Lists may be empty.
 *   NOVALET-DHCP iface=<ethX> ip=<addr>     udhcpc configured an address (new NICs get DHCP automatically)
 *   NOVALET-ACPI-POWEROFF                   power button pressed; the guest then runs `poweroff -f`
 *   NOVALET-ADMINPASS set sha256=<12 hex>   the config drive's admin_pass became root's password (adminPassLine)
 *   user data that starts with `#!` (config drive) runs once per boot in the background, its output on the console
 *
 * A libvirt soft reboot (`virsh reboot`, ACPI) is a power-button press that libvirt turns into a reset:
 * NOVALET-ACPI-POWEROFF, then a new NOVALET-READY with a new boot id. A hard reset (`virsh reset`)
 * shows a new NOVALET-READY with a new boot id. A live migration keeps the boot id and seq keeps counting.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync, promises as fsp } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_GUEST_DIR = '/var/cache/novalet/guest';

export interface GuestArtifacts {
  kernel: string;
  initrd: string;
  kernelVersion: string;
  kernelPackage: string;
  cmdline: string;
  minMemoryMiB: number;
  inputsHash: string;
  builtAt: string;
}

/** Directory of the guest cache: $NOVALET_GUEST_DIR or /var/cache/novalet/guest. */
export function guestDir(): string {
  return process.env['NOVALET_GUEST_DIR'] || DEFAULT_GUEST_DIR;
}

/** Reads guest.json; throws a clear error if the guest has not been built. */
export function guestArtifacts(dir: string = guestDir()): GuestArtifacts {
  const file = `${dir}/guest.json`;
  if (!existsSync(file)) {
    throw new Error(`test guest not built: ${file} missing. Run scripts/build-guest.sh (as root) first.`);
  }
  const a = JSON.parse(readFileSync(file, 'utf8')) as GuestArtifacts;
  for (const p of [a.kernel, a.initrd]) {
    if (!existsSync(p)) throw new Error(`test guest incomplete: ${p} missing. Run scripts/build-guest.sh --force.`);
  }
  return a;
}

// The product's own detection (the tests use exactly what the agent uses).
export { detectDomainType } from '../../src/virt/domain-type.js';
export type { DomainType } from '../../src/virt/hypervisor.js';
import type { DomainType } from '../../src/virt/hypervisor.js';

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

export interface GuestDisk {
  /** file path (type 'file') or block device (type 'block') */
  path: string;
  /** default 'file'. Live migration without storage copy needs 'block' (or network) storage: libvirt
   * refuses file disks on a local filesystem ("Migration without shared storage is unsafe"). */
  type?: 'file' | 'block';
  /** default: libvirt's default; use 'none' for shared storage that migrates */
  cache?: 'none' | 'directsync' | 'writeback' | 'writethrough' | 'unsafe';
  /** e.g. 'vda' */
  target: string;
  format: 'qcow2' | 'raw';
  bus?: 'virtio' | 'sata' | 'scsi';
  readonly?: boolean;
}

export interface GuestNic {
  /** libvirt interface type */
  type: 'network' | 'bridge' | 'ethernet' | 'user' | 'direct';
  /** network name (network), bridge name (bridge), host dev (direct); unused for user/ethernet */
  source?: string;
  /** tap device name for type 'ethernet' */
  targetDev?: string;
  mac?: string;
  model?: string;
}

export interface GuestDomainOptions {
  name: string;
  uuid?: string;
  memoryMiB?: number;
  vcpus?: number;
  /** File the serial console is logged to (append mode); read it with ConsoleLog. */
  consoleLog: string;
  disks?: GuestDisk[];
  nics?: GuestNic[];
  domainType?: DomainType;
  /** Override kernel/initrd paths (e.g. copies in a testbed's shared dir). Default: guestArtifacts(). */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  onPoweroff?: 'destroy' | 'restart' | 'preserve';
  onReboot?: 'destroy' | 'restart';
}

function diskXml(d: GuestDisk): string {
  const type = d.type ?? 'file';
  const cache = d.cache ? ` cache='${d.cache}'` : '';
  return `    <disk type='${type}' device='disk'>
      <driver name='qemu' type='${d.format}'${cache}/>
      <source ${type === 'block' ? 'dev' : 'file'}='${xmlEscape(d.path)}'/>
      <target dev='${xmlEscape(d.target)}' bus='${d.bus ?? 'virtio'}'/>${d.readonly ? '\n      <readonly/>' : ''}
    </disk>`;
}

function nicXml(n: GuestNic): string {
  const parts: string[] = [];
  if (n.mac) parts.push(`<mac address='${xmlEscape(n.mac)}'/>`);
  if (n.source !== undefined) {
    if (n.type === 'network') parts.push(`<source network='${xmlEscape(n.source)}'/>`);
    else if (n.type === 'bridge') parts.push(`<source bridge='${xmlEscape(n.source)}'/>`);
    else if (n.type === 'direct') parts.push(`<source dev='${xmlEscape(n.source)}' mode='bridge'/>`);
  }
  if (n.targetDev) parts.push(`<target dev='${xmlEscape(n.targetDev)}'/>`);
  parts.push(`<model type='${xmlEscape(n.model ?? 'virtio')}'/>`);
  return `    <interface type='${n.type}'>\n${parts.map((p) => `      ${p}`).join('\n')}\n    </interface>`;
}

/** Direct-kernel-boot domain XML for the test guest (ACPI, serial pty logged to a file, virtio). */
export function guestDomainXml(o: GuestDomainOptions): string {
  const needArtifacts = !o.kernel || !o.initrd || !o.cmdline;
  const a = needArtifacts ? guestArtifacts() : undefined;
  const kernel = o.kernel ?? a!.kernel;
  const initrd = o.initrd ?? a!.initrd;
  const cmdline = o.cmdline ?? a!.cmdline;
  const mem = o.memoryMiB ?? 128;
  const devices = [
    ...(o.disks ?? []).map(diskXml),
    ...(o.nics ?? []).map(nicXml),
    `    <serial type='pty'>
      <log file='${xmlEscape(o.consoleLog)}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>`,
  ];
  return `<domain type='${o.domainType ?? 'qemu'}'>
  <name>${xmlEscape(o.name)}</name>${o.uuid ? `\n  <uuid>${xmlEscape(o.uuid)}</uuid>` : ''}
  <memory unit='MiB'>${mem}</memory>
  <vcpu>${o.vcpus ?? 1}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${xmlEscape(kernel)}</kernel>
    <initrd>${xmlEscape(initrd)}</initrd>
    <cmdline>${xmlEscape(cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>${o.onPoweroff ?? 'destroy'}</on_poweroff>
  <on_reboot>${o.onReboot ?? 'restart'}</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
${devices.join('\n')}
  </devices>
</domain>
`;
}

export interface NoOsDomainOptions {
  name: string;
  uuid?: string;
  memoryMiB?: number;
  domainType?: DomainType;
}

/** A domain with no OS at all (SeaBIOS, no disk): it ignores ACPI shutdown/reboot. */
export function noOsDomainXml(o: NoOsDomainOptions): string {
  return `<domain type='${o.domainType ?? 'qemu'}'>
  <name>${xmlEscape(o.name)}</name>${o.uuid ? `\n  <uuid>${xmlEscape(o.uuid)}</uuid>` : ''}
  <memory unit='MiB'>${o.memoryMiB ?? 64}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

export interface Heartbeat {
  boot: string;
  seq: number;
  disks: string[];
  nics: string[];
  /** interface -> IPv4 addresses */
  ips: Record<string, string[]>;
  /** index of the line in ConsoleLog.lines */
  line: number;
}

export const READY_RE = /NOVALET-READY boot=([0-9a-f]+)/;
export const HEARTBEAT_RE = /NOVALET-HEARTBEAT boot=([0-9a-f]+) seq=(\d+) disks=(\S*) nics=(\S*) ips=(\S*)/;
export const POWEROFF_RE = /NOVALET-ACPI-POWEROFF/;
export const DHCP_RE = /NOVALET-DHCP iface=(\S+) ip=(\S+)/;

const list = (s: string): string[] => (s ? s.split(',').filter((x) => x !== '') : []);

/** Parses one console line; undefined if it is not a heartbeat. */
export function parseHeartbeat(text: string, line = -1): Heartbeat | undefined {
  const m = HEARTBEAT_RE.exec(text);
  if (!m) return undefined;
  const ips: Record<string, string[]> = {};
  for (const entry of list(m[5] ?? '')) {
    const i = entry.indexOf(':');
    if (i <= 0) continue;
    const iface = entry.slice(0, i);
    (ips[iface] ??= []).push(entry.slice(i + 1));
  }
  return { boot: m[1] ?? '', seq: Number(m[2]), disks: list(m[3] ?? ''), nics: list(m[4] ?? ''), ips, line };
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Only consider lines with index >= since (see ConsoleLog.mark()). Default 0 (everything read). */
  since?: number;
}

/**
 * Tails a console log file by polling (the file may not exist yet, and may be written by QEMU on
 * several hosts in turn during a migration). Lines are kept in `lines` (\r stripped).
 */
export class ConsoleLog {
  readonly path: string;
  readonly lines: string[] = [];
  private offset = 0;
  private partial = '';

  /** @param fromEnd start at the current end of the file (ignore earlier boots in an appended log) */
  constructor(path: string, opts: { fromEnd?: boolean } = {}) {
    this.path = path;
    if (opts.fromEnd && existsSync(path)) {
      try { this.offset = readFileSync(path).length; } catch { /* ignore */ }
    }
  }

  /** Reads whatever was appended since the last poll. */
  async poll(): Promise<void> {
    let fh: fsp.FileHandle;
    try { fh = await fsp.open(this.path, 'r'); } catch { return; }
    try {
      const { size } = await fh.stat();
      if (size < this.offset) { this.offset = 0; this.partial = ''; } // truncated
      if (size === this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      const text = this.partial + buf.subarray(0, bytesRead).toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const p of parts) this.lines.push(p.replace(/\r/g, ''));
    } finally {
      await fh.close();
    }
  }

  /** Index to pass as `since` to only see lines read after this call (polls first). */
  async mark(): Promise<number> {
    await this.poll();
    return this.lines.length;
  }

  /** Full text read so far (useful in assertion messages). */
  text(): string {
    return this.lines.join('\n') + (this.partial ? `\n${this.partial}` : '');
  }

  /** Waits for a line matching `re`; resolves with the match and its line index. */
  async waitFor(re: RegExp, timeoutMs = 30_000, since = 0): Promise<{ match: RegExpExecArray; line: number }> {
    const r = await this.waitForLine((l) => re.exec(l) ?? undefined, { timeoutMs, since }, `${re}`);
    return { match: r.value, line: r.line };
  }

  /** Waits for NOVALET-READY; returns the boot id. */
  async waitForReady(opts: WaitOptions = {}): Promise<{ boot: string; line: number }> {
    const r = await this.waitFor(READY_RE, opts.timeoutMs ?? 60_000, opts.since ?? 0);
    return { boot: r.match[1] ?? '', line: r.line };
  }

  /** Waits for a heartbeat satisfying `predicate` (default: any heartbeat). */
  async waitForHeartbeat(predicate: (hb: Heartbeat) => boolean = () => true, opts: WaitOptions = {}): Promise<Heartbeat> {
    const r = await this.waitForLine((l, i) => {
      const hb = parseHeartbeat(l, i);
      return hb && predicate(hb) ? hb : undefined;
    }, { timeoutMs: opts.timeoutMs ?? 30_000, since: opts.since ?? 0 }, 'heartbeat matching predicate');
    return r.value;
  }

  /** All heartbeats read so far (from `since`). */
  heartbeats(since = 0): Heartbeat[] {
    const out: Heartbeat[] = [];
    for (let i = since; i < this.lines.length; i++) {
      const hb = parseHeartbeat(this.lines[i] ?? '', i);
      if (hb) out.push(hb);
    }
    return out;
  }

  private async waitForLine<T>(fn: (line: string, index: number) => T | undefined, opts: Required<WaitOptions>, what: string): Promise<{ value: T; line: number }> {
    const deadline = Date.now() + opts.timeoutMs;
    let next = opts.since;
    for (;;) {
      await this.poll();
      for (; next < this.lines.length; next++) {
        const v = fn(this.lines[next] ?? '', next);
        if (v !== undefined) return { value: v, line: next };
      }
      if (Date.now() >= deadline) {
        const tail = this.lines.slice(-15).join('\n');
        throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what} in ${this.path}; last lines:\n${tail}`);
      }
      await sleep(100);
    }
  }
}

/**
 * User data (a `#!` script the test guest runs on every boot) that keeps a marker on the guest's root disk: the
 * first boot writes `marker` at `offsetMiB` of /dev/`dev` (flushed to the disk) and prints `NOVALET-DISKMARK
 * wrote=<marker>`; every later boot that finds it there prints `NOVALET-DISKMARK found=<marker>`. The guest runs
 * from its initrd, so "a file on its root disk" is these bytes: a later boot anywhere shows whether the disk (a
 * volume, a shared disk) kept what the guest wrote before.
 */
export function diskMarkerUserData(marker: string, o: { dev?: string; offsetMiB?: number } = {}): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(marker)) throw new Error(`bad disk marker '${marker}'`);
  const dev = `/dev/${o.dev ?? 'vda'}`;
  const at = o.offsetMiB ?? 900;
  return `#!/bin/sh
m=$(dd if=${dev} bs=1M skip=${at} count=1 2>/dev/null | head -c ${marker.length})
if [ "$m" = "${marker}" ]; then echo "NOVALET-DISKMARK found=$m"; exit 0; fi
printf '%s' "${marker}" | dd of=${dev} bs=1M seek=${at} conv=fsync 2>/dev/null && sync && echo "NOVALET-DISKMARK wrote=${marker}"
`;
}

/** the guest's line for diskMarkerUserData: [1] wrote|found, [2] the marker */
export const DISK_MARKER_RE = /NOVALET-DISKMARK (wrote|found)=(\S+)/;

/** the line the test guest prints once it set root's password from the config drive's admin_pass (not the password) */
export function adminPassLine(password: string): string {
  return `NOVALET-ADMINPASS set sha256=${createHash('sha256').update(password).digest('hex').slice(0, 12)}`;
}

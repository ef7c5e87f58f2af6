/**
 * Ceph RBD through Ceph's own CLIs (`rbd`, `ceph`) with JSON output: no npm client for RBD exists. Images are
 * `<pool>/volume-<id>`, snapshots full copies `<pool>/snapshot-<id>` (no clone chains to flatten before a delete).
 * Image -> volume goes through a raw temporary file and `rbd import`. Fencing: `fence(hostAddress)` blocklists
 * every client of a (dead) host, `IP:0/0` (the form `profile rbd` may add; Ceph matches it against any port and
 * nonce of that IP), so its QEMU can no longer write and another host takes the exclusive lock at once instead of
 * after the ~27 s timeout; `unfence` removes the entry (needs `allow command "osd blocklist"`, scripts/ceph.sh).
 * Entries expire after Ceph's default hour anyway. `locks()` lists an image's lock holders.
 *
 * Attaching: attachSource gives the host the monitors, the cephx user and key and the libvirt secret's UUID; the
 * agent defines the secret and a `<disk type='network'>` (protocol rbd).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RbdSource } from '../../../rpc/protocol/server-spec.js';
import { BackendError, type AttachSource, type CreatedVolume, type VolumeBackend, type VolumeSource } from './backend.js';

export interface RbdConfig {
  pool: string;
  /** cephx user without the `client.` prefix */
  user: string;
  /** ceph.conf (default: Ceph's /etc/ceph/ceph.conf) */
  conf?: string;
  keyring?: string;
}

/**
 * How QEMU on any host reaches the cluster as the configured user: the monitors of ceph.conf's mon_host (v2
 * addresses; `[v2:IP:3300,v1:IP:6789]` and plain `IP[:port]` forms), the user's key from its keyring, and a secret
 * UUID derived from the cluster's fsid and the user (the same on every host and controller, no configuration).
 */
export function rbdClient(cfg: RbdConfig): RbdSource {
  const conf = readFileSync(cfg.conf ?? '/etc/ceph/ceph.conf', 'utf8');
  const setting = (k: string) => new RegExp(`^\\s*${k.replace('_', '[ _]')}\\s*=\\s*(.+)$`, 'mi').exec(conf)?.[1]?.trim();
  const monHost = setting('mon_host');
  if (!monHost) throw new BackendError('rbd', 'ceph.conf has no mon_host');
  const hosts: RbdSource['hosts'] = [];
  for (const group of monHost.split(/[\s,;]+(?![^[]*\])/)) {
    const entries = group.replace(/^\[|\]$/g, '').split(',');
    const pick = entries.find((e) => e.startsWith('v2:')) ?? entries[0]!;
    const m = /^(?:v[12]:)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(pick.trim());
    if (m) hosts.push({ name: m[1]!.replace(/^\[|\]$/g, ''), ...(m[2] ? { port: Number(m[2]) } : {}) });
  }
  const keyring = readFileSync(cfg.keyring ?? `/etc/ceph/ceph.client.${cfg.user}.keyring`, 'utf8');
  const key = /^\s*key\s*=\s*(\S+)/m.exec(keyring)?.[1];
  if (!key) throw new BackendError('rbd', `no key in the keyring of client.${cfg.user}`);
  const h = createHash('sha256').update(`novalet-ceph-secret:${setting('fsid') ?? ''}:${cfg.user}`).digest('hex');
  const secretUuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return { hosts, user: cfg.user, key, secretUuid };
}

export interface RbdLock { id: string; locker: string; address: string }

export class RbdBackend implements VolumeBackend {
  readonly name = 'rbd';

  constructor(readonly cfg: RbdConfig) {}

  private common(): string[] {
    const a = ['--id', this.cfg.user];
    if (this.cfg.conf) a.push('--conf', this.cfg.conf);
    if (this.cfg.keyring) a.push('--keyring', this.cfg.keyring);
    return a;
  }

  private async cli(tool: 'rbd' | 'ceph', args: string[], ok: (stderr: string) => boolean = () => false): Promise<string> {
    const r = await execa(tool, [...this.common(), ...args], { reject: false, env: { LC_ALL: 'C' }, timeout: 600_000 });
    if (r.exitCode !== 0 && !ok(String(r.stderr))) throw new BackendError(this.name, `${tool} ${args.join(' ')} failed: ${String(r.stderr || r.message).trim()}`);
    return String(r.stdout);
  }

  private spec(name: string): string { return `${this.cfg.pool}/${name}`; }
  private static gone = (stderr: string) => /No such file or directory|\(2\)/.test(stderr);

  async create(id: string, sizeGiB: number, source: VolumeSource): Promise<CreatedVolume> {
    const name = this.spec(`volume-${id}`);
    const sizeMiB = `${sizeGiB * 1024}`;
    try {
      if (source.kind === 'blank') await this.cli('rbd', ['create', '--size', sizeMiB, name]);
      else if (source.kind === 'volume' || source.kind === 'snapshot') await this.cli('rbd', ['cp', source.location, name]);
      else {
        const dir = await mkdtemp(join(tmpdir(), 'novalet-rbd-'));
        try {
          const raw = join(dir, 'image.raw');
          const r = await execa('qemu-img', ['convert', '-q', '-f', source.format, '-O', 'raw', source.path, raw], { reject: false });
          if (r.exitCode !== 0) throw new BackendError(this.name, `qemu-img convert failed: ${String(r.stderr).trim()}`);
          await this.cli('rbd', ['import', '--image-format', '2', raw, name]);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      // a copy is as large as its source: grow it to the size asked for, never shrink it
      if (source.kind !== 'blank' && (await this.sizeBytes(name)) < sizeGiB * 1024 ** 3) await this.cli('rbd', ['resize', '--size', sizeMiB, name]);
    } catch (err) {
      await this.remove(name).catch(() => {});
      throw err;
    }
    return { location: name, format: 'raw' };
  }

  private async sizeBytes(location: string): Promise<number> {
    return (JSON.parse(await this.cli('rbd', ['info', '--format', 'json', location])) as { size: number }).size;
  }

  locationOf(id: string): string { return this.spec(`volume-${id}`); }

  async extend(location: string, _format: string, sizeGiB: number): Promise<void> {
    await this.cli('rbd', ['resize', '--size', `${sizeGiB * 1024}`, location]);
  }

  async remove(location: string): Promise<void> {
    await this.cli('rbd', ['rm', '--no-progress', location], RbdBackend.gone);
  }

  async snapshot(location: string, _format: string, snapshotId: string): Promise<{ location: string }> {
    const target = this.spec(`snapshot-${snapshotId}`);
    await this.cli('rbd', ['cp', '--no-progress', location, target]);
    return { location: target };
  }

  async removeSnapshot(location: string): Promise<void> { await this.remove(location); }

  /** monitors, user, key and secret UUID: read once from ceph.conf and the keyring */
  private client?: RbdSource;

  attachSource(location: string): AttachSource {
    this.client ??= rbdClient(this.cfg);
    return { path: location, format: 'raw', sourceType: 'network', rbd: this.client };
  }

  async list(): Promise<string[]> {
    const names = JSON.parse(await this.cli('rbd', ['ls', '--format', 'json', this.cfg.pool])) as string[];
    return names.map((n) => this.spec(n));
  }

  /** the image's lock holders (exclusive-lock owners show here), with their client addresses */
  async locks(location: string): Promise<RbdLock[]> {
    const out = JSON.parse(await this.cli('rbd', ['lock', 'ls', '--format', 'json', location]) || '[]') as unknown;
    // Ceph 16 prints an array of {id, locker, address}; older releases an object keyed by lock id
    if (Array.isArray(out)) return out as RbdLock[];
    return Object.entries(out as Record<string, { locker: string; address: string }>).map(([id, l]) => ({ id, locker: l.locker, address: l.address }));
  }

  /** fences a client address (a dead host's): its writes are refused and its lock can be taken at once */
  async blocklist(address: string): Promise<void> {
    await this.cli('ceph', ['osd', 'blocklist', 'add', address]);
  }

  /** the entry that covers every client of a host: IP:0/0 (IPv6: [IP]:0/0) */
  static hostEntry(hostAddress: string): string {
    return `${hostAddress.includes(':') ? `[${hostAddress}]` : hostAddress}:0/0`;
  }

  async fence(hostAddress: string): Promise<boolean> {
    await this.blocklist(RbdBackend.hostEntry(hostAddress));
    return true;
  }

  async unfence(hostAddress: string): Promise<void> {
    // "isn't blocklisted" exits 0: a second unfence is fine
    await this.cli('ceph', ['osd', 'blocklist', 'rm', RbdBackend.hostEntry(hostAddress)]);
  }

  /** the blocklist's addresses (IP:port/nonce) */
  async blocklisted(): Promise<string[]> {
    // Ceph 16 prints two JSON arrays in a row (the entries, then the range entries): the addresses of both
    const out = await this.cli('ceph', ['osd', 'blocklist', 'ls', '--format', 'json']);
    return [...out.matchAll(/"addr"\s*:\s*"([^"]+)"/g)].map((m) => m[1]!);
  }
}

/**
 * Keeps one libvirt connection open for the hypervisor: opened with keepalive so a hung or dead libvirtd is
 * noticed; when libvirt reports it lost, it is released, `connectionLost` is announced, and a new one is
 * opened by the next call or by a background retry with exponential backoff (whichever comes first),
 * followed by `connectionRestored`. Domain events of every connection are translated for the listeners.
 */
import { LibvirtConnection, type OpenOptions } from '../libvirt/index.js';
import { toVirtError } from '../errors.js';
import type { HypervisorEvent } from '../hypervisor.js';
import { powerStateOfEvent } from '../power-state.js';
import { jobStatsOf } from './migration.js';

export interface KeeperOptions {
  uri: string;
  keepaliveInterval?: number;
  keepaliveCount?: number;
  /** background reconnect backoff, ms (default 1 s doubling up to 30 s) */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** injectable for tests */
  open?: (uri: string, opts: OpenOptions) => Promise<LibvirtConnection>;
}

export class ConnectionKeeper {
  private conn: LibvirtConnection | null = null;
  private opening: Promise<LibvirtConnection> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private everLost = false;
  private closed = false;

  constructor(private readonly o: KeeperOptions, private readonly emit: (e: HypervisorEvent) => void) {
    this.retryDelay = o.reconnectMinMs ?? 1000;
  }

  /** The live connection, opened if needed. Rejects with VirtError 'hypervisor_unavailable'. */
  get(): Promise<LibvirtConnection> {
    if (this.closed) return Promise.reject(toVirtError(new Error('hypervisor closed'), 'libvirt', true));
    if (this.conn && !this.conn.lost) return Promise.resolve(this.conn);
    // a call saw the connection die before its close event arrived: announce the loss now, so that
    // connectionLost/connectionRestored always come in pairs around the gap
    if (this.conn?.lost) this.onLost(this.conn, 'error');
    // single flight: concurrent callers share one open attempt
    this.opening ??= this.open().finally(() => { this.opening = null; });
    return this.opening;
  }

  private async open(): Promise<LibvirtConnection> {
    let conn: LibvirtConnection;
    try {
      conn = await (this.o.open ?? LibvirtConnection.open)(this.o.uri, {
        keepaliveInterval: this.o.keepaliveInterval ?? 5,
        keepaliveCount: this.o.keepaliveCount ?? 3,
      });
    } catch (e) {
      throw toVirtError(e, `cannot connect to libvirt at ${this.o.uri}`, true);
    }
    if (this.closed) {
      await conn.close().catch(() => undefined);
      throw toVirtError(new Error('hypervisor closed'), 'libvirt', true);
    }
    this.attach(conn);
    this.conn = conn;
    this.retryDelay = this.o.reconnectMinMs ?? 1000;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    if (this.everLost) this.emit({ type: 'connectionRestored' });
    return conn;
  }

  private attach(conn: LibvirtConnection): void {
    conn.on('lifecycle', (e) => {
      const power = powerStateOfEvent(e.event, e.detail);
      if (power) this.emit({ type: 'power', uuid: e.uuid, power, libvirtEvent: e.event, detail: e.detail });
    });
    conn.on('deviceRemoved', (e) => this.emit({ type: 'deviceRemoved', uuid: e.uuid, alias: e.alias }));
    conn.on('blockJob', (e) => this.emit({ type: 'blockJob', uuid: e.uuid, disk: e.disk, status: e.status }));
    conn.on('jobCompleted', (e) => this.emit({ type: 'jobCompleted', uuid: e.uuid, stats: jobStatsOf(false, e.stats) }));
    conn.on('close', (e) => this.onLost(conn, e.reason));
  }

  private onLost(conn: LibvirtConnection, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = null;
    this.everLost = true;
    conn.removeAllListeners();
    void conn.close().catch(() => undefined);
    this.emit({ type: 'connectionLost', reason });
    this.scheduleRetry();
  }

  /** Connect in the background (retrying with backoff) without a caller waiting: events start flowing. */
  connectSoon(): void {
    if (this.closed || (this.conn && !this.conn.lost) || this.opening) return;
    this.get().catch(() => this.scheduleRetry());
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(delay * 2, this.o.reconnectMaxMs ?? 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed || (this.conn && !this.conn.lost)) return;
      this.get().catch(() => this.scheduleRetry());
    }, delay);
    // the agent's own servers keep the process alive; a reconnect loop alone must not
    this.retryTimer.unref();
  }

  /** Whether the current connection (if any) is known dead: failing calls then mean 'hypervisor_unavailable'. */
  get isLost(): boolean {
    return this.conn === null || this.conn.lost;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    await this.opening?.catch(() => undefined);
    const c = this.conn;
    this.conn = null;
    if (c) {
      c.removeAllListeners();
      await c.close().catch(() => undefined);
    }
  }
}

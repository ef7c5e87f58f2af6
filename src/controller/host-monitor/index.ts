/**
 * Host failure handling, wired together: the monitor (up/down and its history), fencing of returning hosts (called
 * by the heartbeat before a host's beat counts), automatic evacuation (opt-in) on the monitor's rounds. The
 * monitor's records and the automatic evacuation run on the controller holding the `host-monitor` duty.
 */
import type { Store } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import type { HostRegistry } from '../hosts/registry.js';
import type { HostTransport } from '../hosts/transport.js';
import type { ServerActions } from '../compute/actions.js';
import { ClusterDuty } from '../cluster-duty.js';
import { DEFAULT_EVACUATION, type EvacuationConfig } from './config.js';
import { HostMonitor } from './monitor.js';
import { HostFencer, type StorageFence } from './fencing.js';
import { AutoEvacuator } from './auto-evacuate.js';

export { HostMonitor } from './monitor.js';
export { HostFencer } from './fencing.js';
export { AutoEvacuator } from './auto-evacuate.js';
export { DEFAULT_EVACUATION, type EvacuationConfig } from './config.js';

export interface HostFailureLogger { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; }

/** a logger from the task engine's (error/info) or pino's */
export function hostLogger(log?: { error(obj: object, msg: string): void; info?(obj: object, msg: string): void; warn?(obj: object, msg: string): void }): HostFailureLogger {
  if (!log) return { info: () => {}, warn: () => {} };
  return {
    info: (o, m) => log.info?.(o, m),
    warn: (o, m) => (log.warn ? log.warn(o, m) : log.error(o, m)),
  };
}

export class HostFailureHandling {
  readonly cfg: EvacuationConfig;
  readonly monitor: HostMonitor;
  readonly fencer: HostFencer;
  readonly auto: AutoEvacuator;
  readonly duty: ClusterDuty;
  private timer: NodeJS.Timeout | null = null;

  constructor(store: Store, cfg: ControllerConfig, registry: HostRegistry, transport: HostTransport, actions: ServerActions, controllerId: string, log: HostFailureLogger, storage?: StorageFence) {
    this.cfg = { ...DEFAULT_EVACUATION, ...cfg.evacuation };
    this.duty = new ClusterDuty(store, 'host-monitor', controllerId, 3 * this.cfg.monitorIntervalSeconds * 1000);
    this.monitor = new HostMonitor(store, registry, this.duty, log);
    this.fencer = new HostFencer(store, transport, log, storage);
    this.auto = new AutoEvacuator(store, this.monitor, actions, this.cfg, log);
  }

  /** one round: transitions recorded, then (when on) automatic evacuation; only on the duty's holder */
  async round(nowMs = Date.now()): Promise<void> {
    await this.monitor.check(nowMs);
    if (this.cfg.auto && (await this.duty.held(nowMs))) await this.auto.round(nowMs);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.round().catch(() => {}); }, this.cfg.monitorIntervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.duty.release();
  }
}

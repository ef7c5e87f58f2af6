/**
 * The agent's Prometheus metrics (its own registry, src/common/metrics.ts), served without the cluster secret at
 * GET /metrics on the RPC listener (src/rpc/server.ts `probes`; nothing in them is secret):
 *   novalet_agent_operation_duration_seconds{kind,state}     operations by kind and final state (ops/runner.ts)
 *   novalet_agent_libvirt_call_duration_seconds{method}      every Hypervisor call, timed by a wrapper built here
 *   novalet_agent_libvirt_call_errors_total{method}          (src/virt knows nothing of metrics)
 *   novalet_agent_event_loop_delay_p99_seconds               (+ prom-client's process metrics when the CLI asks)
 * Simulated hosts (src/sim: many agents in one process) have none of this: one registry per process would mix
 * hosts without a `host` label and a thousand labelled series would measure the simulation, not an agent.
 */
import { Counter, Histogram } from 'prom-client';
import type { Hypervisor } from '../virt/hypervisor.js';
import { processRegistry, seconds, SECONDS_BUCKETS, type ProcessRegistry } from '../common/metrics.js';

const PREFIX = 'novalet_agent_';

export class AgentMetrics {
  readonly process: ProcessRegistry;
  private readonly operations: Histogram<'kind' | 'state'>;
  private readonly calls: Histogram<'method'>;
  private readonly errors: Counter<'method'>;

  constructor(o: { defaultMetrics?: boolean } = {}) {
    this.process = processRegistry(PREFIX, o);
    const registers = [this.process.registry];
    this.operations = new Histogram({
      name: `${PREFIX}operation_duration_seconds`, help: 'Operation run time by kind and final state',
      labelNames: ['kind', 'state'], buckets: SECONDS_BUCKETS, registers,
    });
    this.calls = new Histogram({
      name: `${PREFIX}libvirt_call_duration_seconds`, help: 'Hypervisor (libvirt) call latency by method',
      labelNames: ['method'], buckets: SECONDS_BUCKETS, registers,
    });
    this.errors = new Counter({ name: `${PREFIX}libvirt_call_errors_total`, help: 'Hypervisor (libvirt) calls that failed, by method', labelNames: ['method'], registers });
  }

  readonly operationFinished = (kind: string, state: string, ms: number): void => {
    this.operations.observe({ kind, state }, seconds(ms));
  };

  text(): Promise<string> { return this.process.text(); }
  close(): void { this.process.close(); }

  /** the same hypervisor, each asynchronous call (every libvirt one) timed until it settles and its failures counted; synchronous methods (onEvent) pass through */
  instrument<H extends Hypervisor>(hv: H): H {
    const wrapped = new Map<PropertyKey, unknown>();
    const observe = (method: string, t0: number, failed: boolean): void => {
      this.calls.observe({ method }, seconds(performance.now() - t0));
      if (failed) this.errors.inc({ method });
    };
    return new Proxy(hv, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function' || typeof prop !== 'string' || prop === 'constructor') return v;
        if (!wrapped.has(prop)) {
          wrapped.set(prop, function (this: unknown, ...args: unknown[]) {
            const t0 = performance.now();
            const r: unknown = (v as (...a: unknown[]) => unknown).apply(this === receiver ? target : this, args);
            if (!(r instanceof Promise)) return r;
            return r.then((x) => { observe(prop, t0, false); return x; }, (err: unknown) => { observe(prop, t0, true); throw err; });
          });
        }
        return wrapped.get(prop);
      },
    });
  }
}

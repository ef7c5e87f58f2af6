/**
 * The controller's Prometheus metrics (one registry per app, see src/common/metrics.ts), served unauthenticated
 * at GET /metrics on the main listener with /healthz and /readyz (src/common/probes.ts):
 *   novalet_api_request_duration_seconds{method,route,status}  the fastify route pattern (`/compute/v2.1/servers/:id`),
 *                                                               never the raw URL; `(unmatched)` for unknown paths
 *   novalet_task_duration_seconds{kind,result}                 task drives by kind, success | error (tasks/engine.ts)
 *   novalet_scheduler_decisions_total{decision}                placed | no_valid_host (scheduler/placement.ts)
 *   novalet_hosts{state}                                       up | down, read from the host registry at scrape time
 *   novalet_event_loop_delay_p99_seconds                       (+ prom-client's process metrics when the CLI asks)
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { HostRegistry } from '../controller/hosts/registry.js';
import type { PlacementDecision } from '../controller/scheduler/placement.js';
import { processRegistry, seconds, SECONDS_BUCKETS, type ProcessRegistry } from '../common/metrics.js';
import { installProbes } from '../common/probes.js';

const PREFIX = 'novalet_';

export class ControllerMetrics {
  readonly process: ProcessRegistry;
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly tasks: Histogram<'kind' | 'result'>;
  private readonly decisions: Counter<'decision'>;
  private hosts: HostRegistry | null = null;

  constructor(o: { defaultMetrics?: boolean } = {}) {
    this.process = processRegistry(PREFIX, o);
    const registers = [this.process.registry];
    this.requests = new Histogram({
      name: `${PREFIX}api_request_duration_seconds`, help: 'API request latency by route pattern and status code',
      labelNames: ['method', 'route', 'status'], buckets: SECONDS_BUCKETS, registers,
    });
    this.tasks = new Histogram({
      name: `${PREFIX}task_duration_seconds`, help: 'Task drive duration by task kind and result',
      labelNames: ['kind', 'result'], buckets: SECONDS_BUCKETS, registers,
    });
    this.decisions = new Counter({
      name: `${PREFIX}scheduler_decisions_total`, help: 'Scheduler decisions: placed or no valid host', labelNames: ['decision'], registers,
    });
    for (const decision of ['placed', 'no_valid_host']) this.decisions.inc({ decision }, 0);
    const count = async (): Promise<{ up: number; down: number }> => {
      const all = this.hosts ? await this.hosts.list() : [];
      const now = Date.now();
      const up = all.filter((h) => this.hosts!.isUp(h, now)).length;
      return { up, down: all.length - up };
    };
    new Gauge({
      name: `${PREFIX}hosts`, help: 'Compute hosts by state (heartbeat fresh and not forced down = up)', labelNames: ['state'], registers,
      async collect() {
        const n = await count();
        this.set({ state: 'up' }, n.up);
        this.set({ state: 'down' }, n.down);
      },
    });
  }

  readonly taskFinished = (kind: string, result: 'success' | 'error', ms: number): void => {
    this.tasks.observe({ kind, result }, seconds(ms));
  };

  readonly placement = (decision: PlacementDecision): void => { this.decisions.inc({ decision }); };

  /** request latency hook, the host gauge's source and the probe routes; `ready` is the readiness check */
  install(app: FastifyInstance, hosts: HostRegistry, ready: () => Promise<boolean>): void {
    this.hosts = hosts;
    app.addHook('onResponse', async (req, reply) => {
      this.requests.observe(
        { method: req.method, route: req.routeOptions.url ?? '(unmatched)', status: String(reply.statusCode) },
        seconds(reply.elapsedTime),
      );
    });
    installProbes(app, { ready, metrics: () => this.process.text() });
    app.addHook('onClose', async () => { this.process.close(); });
  }
}

/**
 * Prometheus plumbing shared by the controller (src/api/metrics.ts) and the agent (src/agent/metrics.ts): one
 * prom-client Registry per process part (never prom-client's global default registry, so that tests and
 * `novalet up` — a controller and an agent in one process — do not collide), with an event-loop delay p99 gauge
 * and, when asked (the CLI does; tests do not), prom-client's default process metrics (CPU, memory, GC,
 * `nodejs_eventloop_lag_*`), under a prefix.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ProcessRegistry {
  registry: Registry;
  /** the exposition text (what GET /metrics answers) */
  text(): Promise<string>;
  /** stops the event-loop monitor */
  close(): void;
}

/** latency buckets in seconds: 1 ms .. 60 s */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function processRegistry(prefix: string, o: { defaultMetrics?: boolean } = {}): ProcessRegistry {
  const registry = new Registry();
  if (o.defaultMetrics) collectDefaultMetrics({ register: registry, prefix });
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  new Gauge({
    name: `${prefix}event_loop_delay_p99_seconds`, help: 'p99 event-loop delay since the previous scrape', registers: [registry],
    collect() { this.set(loop.percentile(99) / 1e9); loop.reset(); },
  });
  return { registry, text: () => registry.metrics(), close: () => loop.disable() };
}

/** ms -> s for histograms */
export const seconds = (ms: number): number => ms / 1000;

/**
 * The health and metrics endpoints both the controller and the agent serve, without authentication (operators'
 * probes and Prometheus scrape them; they answer no secret and nothing of a tenant):
 *   GET /healthz  liveness: 200 {"status":"ok"} while the process answers at all
 *   GET /readyz   readiness: 200 {"status":"ready"} when `ready()` says so, else 503 {"status":"not ready"}
 *   GET /metrics  Prometheus text exposition of the process's own registry
 */
import type { FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE } from './metrics.js';

export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface Probes {
  /** readiness; a throw counts as not ready */
  ready(): Promise<boolean>;
  /** the exposition text */
  metrics(): Promise<string>;
}

export function installProbes(app: FastifyInstance, p: Probes): void {
  // probes are polled every few seconds: their access-log lines would drown the log at info
  const quiet = { logLevel: 'warn' as const };
  app.get('/healthz', quiet, async (_req, reply) => reply.code(200).send({ status: 'ok' }));
  app.get('/readyz', quiet, async (_req, reply) => {
    const ok = await p.ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/metrics', quiet, async (_req, reply) => reply.code(200).type(METRICS_CONTENT_TYPE).send(await p.metrics()));
}

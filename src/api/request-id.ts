/** Every response carries a request id (req-<uuid>): tempest-style clients require it, logs and instance actions use it. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export const newRequestId = (): string => `req-${randomUUID()}`;

export function installRequestId(app: FastifyInstance): void {
  app.decorateRequest('requestId', '');
  app.addHook('onRequest', async (req, reply) => {
    req.requestId = newRequestId();
    reply.header('X-OpenStack-Request-Id', req.requestId);
    reply.header('X-Compute-Request-Id', req.requestId);
  });
}

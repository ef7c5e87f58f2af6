/**
 * Large JSON answers (a detailed list of 1,000 servers is 1-2 MB) leave as one UTF-8 Buffer: a string payload is
 * scanned by fastify for its Content-Length and then encoded again by the socket write (measured 2-5 ms per
 * 1,000 servers). Small answers stay strings: the second pass costs nothing there.
 */
import type { FastifyInstance } from 'fastify';

const LARGE_BODY_CHARS = 16 * 1024;

export function installEncodedBodies(app: FastifyInstance): void {
  app.addHook('onSend', (_req, _reply, payload, done) => {
    done(null, typeof payload === 'string' && payload.length > LARGE_BODY_CHARS ? Buffer.from(payload) : payload);
  });
}

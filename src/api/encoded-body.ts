/**
 * Large JSON answers (image and flavor lists, a big show; measured on a detailed list of 1,000 servers, 1-2 MB,
 * before that route wrote its own Buffer with utf8Join) leave as one UTF-8 Buffer: a string payload is scanned by
 * fastify for its Content-Length and then encoded again by the socket write (2-5 ms per 1,000 servers). Small
 * answers stay strings: the second pass costs nothing there.
 */
import type { FastifyInstance } from 'fastify';

const LARGE_BODY_CHARS = 16 * 1024;

export function installEncodedBodies(app: FastifyInstance): void {
  app.addHook('onSend', (_req, _reply, payload, done) => {
    done(null, typeof payload === 'string' && payload.length > LARGE_BODY_CHARS ? Buffer.from(payload) : payload);
  });
}

/**
 * `head`, the `parts` joined by `sep`, then `tail`, written straight into one UTF-8 Buffer: joining them into a
 * string first would make a 1-2 MB string for a page of servers and then copy it again to encode it, two large
 * objects per request where this makes none on V8's heap.
 */
export function utf8Join(head: string, parts: string[], sep: string, tail: string): Buffer {
  let n = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, parts.length - 1) * Buffer.byteLength(sep);
  for (const p of parts) n += Buffer.byteLength(p);
  const buf = Buffer.allocUnsafe(n);
  let at = buf.write(head, 0);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) at += buf.write(sep, at);
    at += buf.write(parts[i]!, at);
  }
  buf.write(tail, at);
  return buf;
}

/**
 * Errors answered before any route or plugin runs, so no plugin's error handler sees them: fastify's router
 * (a path parameter over maxParamLength, an undecodable URL) and Node's HTTP parser (raw invalid bytes in the
 * request line, an unknown method, headers over the size limit, a bad Content-Length, a timeout). Both answer
 * with the error body of the service that the path names, never fastify's own; a parser error also closes the
 * connection (the stream cannot be trusted after it) and sends no body to a HEAD.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBodyFor } from './errors.js';
import { newRequestId } from './request-id.js';

/** fastify's `frameworkErrors` option */
export function frameworkErrors(err: FastifyError, req: Pick<FastifyRequest, 'raw'>, reply: FastifyReply): void {
  const [status, message] = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? [414, 'The request URI is too long.'] : [400, 'Malformed request URL.'];
  const id = newRequestId();
  void reply.code(status).headers({ 'x-openstack-request-id': id, 'x-compute-request-id': id }).type('application/json')
    .send(errorBodyFor(req.raw.url ?? '/')(status, message));
}

/** fastify's `clientErrorHandler` option: the request line is read from the bytes that failed to parse, when they hold it */
export function clientErrorHandler(err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request timed out.']
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request header fields too large.'] : [400, 'Malformed request.'];
  // Node hands the unparsed bytes as a Buffer (fastify's type says otherwise)
  const packet: unknown = err.rawPacket;
  const line = Buffer.isBuffer(packet) ? packet.subarray(0, 4096).toString('latin1').split('\r\n', 1)[0]! : '';
  const [method = '', path = '/'] = line.split(' ');
  const body = JSON.stringify(errorBodyFor(path)(status, message));
  const id = newRequestId();
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`,
    `X-OpenStack-Request-Id: ${id}`, `X-Compute-Request-Id: ${id}`, 'Connection: close',
  ].join('\r\n');
  if (!socket.writable) { socket.destroy(); return; }
  socket.end(`${head}\r\n\r\n${method === 'HEAD' ? '' : body}`, () => socket.destroy());
}

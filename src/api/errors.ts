/**
 * The edge: maps anything thrown in a route to the service's error body. Typed ApiErrors keep their status and
 * message; fastify's own errors (bad JSON, unsupported media type, body too large) get Nova's wording; anything
 * else is logged with its stack and answered with a generic 500 that reveals nothing.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../controller/errors.js';
import { PREFIX } from '../controller/config.js';

const NOVA_NAMES: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
  409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented',
  503: 'serviceUnavailable',
};

const KEYSTONE_TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
};

export const UNEXPECTED = 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class \'novalet.exception.InternalError\'>';

/** Normalise any thrown value to {status, message}; unknown errors become an opaque 500. */
export function toApiError(err: unknown, req: FastifyRequest): { status: number; message: string } {
  if (err instanceof ApiError) return { status: err.status, message: err.message };
  const fe = err as FastifyError;
  switch (fe?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'Malformed request body' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 415, message: 'Unsupported Content-Type' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Request is too large.' };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 && fe.validation) {
    return { status: 400, message: `Invalid input for field/attribute ${fe.validationContext ?? ''}. ${fe.message}` };
  }
  if (fe && fe.statusCode === 400 && /JSON|body/i.test(fe.message ?? '')) return { status: 400, message: 'Malformed request body' };
  req.log.error({ err, requestId: req.requestId }, 'unexpected error');
  return { status: 500, message: UNEXPECTED };
}

const NEUTRON_TYPES: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'PolicyNotAuthorized', 404: 'NotFound', 413: 'HTTPRequestEntityTooLarge',
  414: 'HTTPRequestURITooLong', 431: 'HTTPRequestHeaderFieldsTooLarge', 500: 'InternalError',
};

/** Nova's (and Cinder's) fault body */
export function novaBody(status: number, message: string): Record<string, unknown> {
  const inner: Record<string, unknown> = { code: status, message };
  if (status === 413 || status === 429) inner.retryAfter = '0';
  return { [NOVA_NAMES[status] ?? 'computeFault']: inner };
}
/** Keystone's error body (Glance's too, here) */
export const keystoneBody = (status: number, message: string) => ({ error: { code: status, message, title: KEYSTONE_TITLES[status] ?? 'Error' } });
/** Neutron's error body; `type` names the exception (default: by status) */
export const neutronBody = (status: number, message: string, type = NEUTRON_TYPES[status] ?? 'BadRequest') => ({ NeutronError: { type, message, detail: '' } });

/** which service's error shape a path gets: by its prefix (/compute, /volume: Nova's; /network: Neutron's; else Keystone's) */
export function errorBodyFor(path: string): (status: number, message: string) => Record<string, unknown> {
  const first = `/${path.split(/[/?#]/)[1] ?? ''}`;
  if (first === PREFIX.compute || first === PREFIX.volume) return novaBody;
  if (first === PREFIX.network) return neutronBody;
  return keystoneBody;
}

export function sendNova(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send(novaBody(status, message));
}

export function sendKeystone(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send(keystoneBody(status, message));
}

export function sendNeutron(reply: FastifyReply, status: number, message: string, type?: string): FastifyReply {
  return reply.code(status).type('application/json').send(neutronBody(status, message, type));
}

export function novaErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toApiError(err, req);
  return sendNova(reply, e.status, e.message);
}

export function keystoneErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toApiError(err, req);
  if (err instanceof ApiError && err.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(err.retryAfterSeconds));
  return sendKeystone(reply, e.status, e.status === 500 ? 'An unexpected error prevented the server from fulfilling your request.' : e.message);
}

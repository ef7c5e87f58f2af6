/**
 * 405 for a path that some route serves, but not with the request's method (DELETE /flavors, PUT /servers,
 * POST /servers/{id}): the answer names the allowed methods in `Allow`. A path no route serves stays 404.
 * Paths that Nova routes to a parameterised route keep that route's answer: PUT /servers/detail is an update of
 * the server "detail" (404 "Instance detail could not be found."), exactly as in Nova.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

interface Pattern { re: RegExp; methods: Set<string>; }

/** '/v2.1/servers/:id/action' -> /^\/v2\.1\/servers\/[^/]+\/action$/ (exact: the router does not ignore a trailing slash either) */
function compile(url: string): RegExp {
  const parts = url.split(/(:[A-Za-z0-9_]+|\*)/).map((p) => {
    if (p === '*') return '.*';
    if (p.startsWith(':')) return '[^/]+';
    return p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('')}$`);
}

/** Installs the route collector; returns the allowed methods of a concrete path (empty: unknown path). */
export function collectRoutes(app: FastifyInstance): (path: string) => string[] {
  const patterns = new Map<string, Pattern>();
  app.addHook('onRoute', (r) => {
    let p = patterns.get(r.url);
    if (!p) { p = { re: compile(r.url), methods: new Set() }; patterns.set(r.url, p); }
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) p.methods.add(m.toUpperCase());
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const p of patterns.values()) if (p.re.test(path)) for (const m of p.methods) allowed.add(m);
    return [...allowed].sort();
  };
}

/**
 * Not-found handler with 405: `send(reply, status, message)` writes the service's own error body
 * (Nova's badMethod, Keystone's error).
 */
export function notFoundOrBadMethod(
  allowedFor: (path: string) => string[],
  send: (reply: FastifyReply, status: number, message: string) => FastifyReply,
  notFoundMessage = 'The resource could not be found.',
) {
  return (req: FastifyRequest, reply: FastifyReply): void => {
    const path = req.url.split('?')[0]!;
    const allowed = allowedFor(path).filter((m) => m !== req.method);
    if (allowed.length === 0) { send(reply, 404, notFoundMessage); return; }
    reply.header('Allow', allowed.join(', '));
    send(reply, 405, `The method ${req.method} is not allowed for this resource.`);
  };
}

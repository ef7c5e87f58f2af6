/**
 * Every (method, path) of a fastify app, parsed from printRoutes({commonPrefix: false}); HEAD is GET without a
 * body and is skipped. The fuzz test and the fuzz-memory bench take their routes from here, so a new route is
 * covered by both without touching either.
 */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry { method: string; url: string }

export function routeTable(app: FastifyInstance): RouteEntry[] {
  const out: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?) \(([A-Z, ]+)\)$/u.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    stack.length = depth;
    stack[depth] = m[2]!;
    const url = stack.join('');
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push({ method, url });
  }
  return out;
}

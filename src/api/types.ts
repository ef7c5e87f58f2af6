/** Request decorations shared by every service's routes. */
import type { RequestContext } from '../controller/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** req-<uuid>, also on the response and in instance actions */
    requestId: string;
    /** the caller, set by the auth hook (absent on public routes) */
    ctx: RequestContext;
    /** requested compute microversion as major*1000+minor (2.1 = 2001) */
    mv: number;
  }
  interface FastifyContextConfig {
    /** route needs no token (version documents, POST /v3/auth/tokens) */
    public?: boolean;
  }
}

export {};

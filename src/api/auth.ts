/** Token validation hook for service routes: X-Auth-Token -> RequestContext, or 401 in the service's error body. */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../controller/identity/service.js';
import { unauthorized } from '../controller/errors.js';

export function installAuth(app: FastifyInstance, identity: IdentityService): void {
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.config?.public) return;
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') throw unauthorized();
    req.ctx = await identity.context(token, req.requestId);
  });
}

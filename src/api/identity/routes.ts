/**
 * Keystone v3 subset under /identity: version discovery, POST/GET/HEAD/DELETE /v3/auth/tokens, and
 * /v3/auth/projects. Errors in Keystone's body shape.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import { keystoneErrorHandler, sendKeystone } from '../errors.js';
import { collectRoutes, notFoundOrBadMethod } from '../method-not-allowed.js';
import { notFound, unauthorized, ApiError } from '../../controller/errors.js';
import type { Store } from '../../store/index.js';
import { registerIdentityAdminRoutes } from './admin-routes.js';
import { IdentityDirectory } from '../../controller/identity/directory.js';

export function identityVersion(base: string) {
  return {
    id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** `store` is only handed to the directory built here (the routes never read it): see IdentityDirectory */
export function identityPlugin(identity: IdentityService, store: Store, base: string) {
  const directory = new IdentityDirectory(store);
  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler(keystoneErrorHandler);
    app.setNotFoundHandler(notFoundOrBadMethod(collectRoutes(app), sendKeystone));

    const versions = async (_req: unknown, reply: FastifyReply) => reply.code(300).send({ versions: { values: [identityVersion(base)] } });
    app.get('/', versions);
    app.get('/v3', async () => ({ version: identityVersion(base) }));
    app.get('/v3/', async () => ({ version: identityVersion(base) }));

    app.post('/v3/auth/tokens', async (req, reply) => {
      const { token, body } = await identity.authenticate(req.body);
      const q = req.query as Record<string, string | undefined>;
      if (q.nocatalog !== undefined) delete body.token.catalog;
      reply.header('X-Subject-Token', token);
      return reply.code(201).send(body);
    });

    const caller = async (headers: Record<string, unknown>) => {
      const t = headers['x-auth-token'];
      if (typeof t !== 'string' || !t) throw unauthorized();
      return identity.validate(t);
    };
    /** the X-Subject-Token, if the caller may see it: its owner or an admin (403), and if it is valid (404) */
    const subject = async (headers: Record<string, unknown>, action: 'validate_token' | 'check_token' | 'revoke_token') => {
      const me = await caller(headers);
      const s = headers['x-subject-token'];
      if (typeof s !== 'string' || !s) throw new ApiError('bad_request', 'X-Subject-Token is required.');
      let info;
      try { info = await identity.validate(s); } catch { throw notFound(`Could not find token: ${s.slice(0, 16)}...`); }
      identity.authorizeTokenAccess(me, info, action);
      return info;
    };

    // HEAD first: fastify would otherwise derive one from GET (which validates differently)
    app.head('/v3/auth/tokens', async (req, reply) => {
      await subject(req.headers, 'check_token');
      return reply.code(200).send();
    });
    app.get('/v3/auth/tokens', async (req) => {
      const body = identity.tokenBody(await subject(req.headers, 'validate_token'));
      if ((req.query as Record<string, unknown>).nocatalog !== undefined) delete body.token.catalog;
      return body;
    });
    app.delete('/v3/auth/tokens', async (req, reply) => {
      await identity.revoke(await subject(req.headers, 'revoke_token'));
      return reply.code(204).send();
    });
    registerIdentityAdminRoutes(app, identity, directory, base);
    app.get('/v3/auth/projects', async (req) => {
      const info = await caller(req.headers);
      return { projects: await identity.userProjects(info.user.id), links: { self: `${base}/v3/auth/projects`, next: null, previous: null } };
    });
  };
}

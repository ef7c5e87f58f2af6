/**
 * The Block Storage API (Cinder v3 subset) under /volume: version discovery, volumes (+ actions), snapshots,
 * volume types, attachments (3.27+), limits and quotas. Cinder's error bodies (`{"itemNotFound": {...}}`); the
 * project in the URL must be the token's (Cinder: 400 "Malformed request url"), another project's records are 404.
 */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import type { ComputeController } from '../../controller/compute/index.js';
import { installAuth } from '../auth.js';
import { novaErrorHandler, sendNova } from '../errors.js';
import { badRequest } from '../../controller/errors.js';
import { installVolumeMicroversion, MAX_VERSION, MIN_VERSION } from './microversion.js';
import { registerVolumeRoutes } from './volumes.js';
import { registerSnapshotRoutes } from './snapshots.js';
import { registerTypeRoutes } from './types.js';
import { registerAttachmentRoutes } from './attachments.js';
import { registerQuotaRoutes } from './quotas.js';

export interface VolumeApi { compute: ComputeController; base: string }

export function volumePlugin(identity: IdentityService, compute: ComputeController, base: string) {
  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler(novaErrorHandler);
    app.setNotFoundHandler((_req, reply) => { sendNova(reply, 404, 'The resource could not be found.'); });
    installVolumeMicroversion(app);
    installAuth(app, identity);
    // Cinder: the project in the URL must be the token's (for admins too)
    app.addHook('preHandler', async (req) => {
      const p = (req.params as { p?: string } | undefined)?.p;
      if (p !== undefined && p !== req.ctx.projectId) throw badRequest('Malformed request url');
    });
    const version = {
      id: 'v3.0', status: 'CURRENT', version: MAX_VERSION, min_version: MIN_VERSION, updated: '2022-08-31T00:00:00Z',
      links: [{ rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' }, { rel: 'self', href: `${base}/v3/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
    };
    app.get('/', { config: { public: true } }, async (_req, reply) => reply.code(300).send({ versions: [version] }));
    app.get('/v3', { config: { public: true } }, async () => ({ versions: [version] }));
    app.get('/v3/', { config: { public: true } }, async () => ({ versions: [version] }));
    const api: VolumeApi = { compute, base };
    registerVolumeRoutes(app, api);
    registerSnapshotRoutes(app, api);
    registerTypeRoutes(app, api);
    registerAttachmentRoutes(app, api);
    registerQuotaRoutes(app, api);
  };
}

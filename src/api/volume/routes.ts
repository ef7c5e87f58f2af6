/**
 * Placeholder Block Storage API (Cinder v3 discovery + empty collections + zero limits/quotas) under /volume, until
 * the volume issue: clients that also ask the volume service (`openstack limits show`, `quota show`, create with
 * --block-device-mapping lookups) get well-formed empty answers instead of 404s.
 */
import type { FastifyInstance } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import { installAuth } from '../auth.js';
import { novaErrorHandler, sendNova } from '../errors.js';
import { isAdminOrOwner } from '../../controller/context.js';
import { badRequest, forbidden } from '../../controller/errors.js';

export function volumePlugin(identity: IdentityService, base: string) {
  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler(novaErrorHandler);
    app.setNotFoundHandler((_req, reply) => { sendNova(reply, 404, 'The resource could not be found.'); });
    installAuth(app, identity);
    // Cinder: the project in the URL must be the token's (for admins too)
    app.addHook('preHandler', async (req) => {
      const p = (req.params as { p?: string } | undefined)?.p;
      if (p !== undefined && p !== req.ctx.projectId) throw badRequest('Malformed request url');
    });
    const version = { id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0', updated: '2022-08-31T00:00:00Z', links: [{ rel: 'self', href: `${base}/v3/` }], 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }] };
    app.get('/', { config: { public: true } }, async (_req, reply) => reply.code(300).send({ versions: [version] }));
    app.get('/v3', { config: { public: true } }, async () => ({ versions: [version] }));
    app.get('/v3/', { config: { public: true } }, async () => ({ versions: [version] }));
    type P = { Params: { p: string; id: string } };
    const empty = (k: string) => async () => ({ [k]: [] });
    app.get('/v3/:p/volumes', empty('volumes'));
    app.get('/v3/:p/volumes/detail', empty('volumes'));
    app.get('/v3/:p/snapshots', empty('snapshots'));
    app.get('/v3/:p/snapshots/detail', empty('snapshots'));
    app.get('/v3/:p/types', empty('volume_types'));
    app.get<P>('/v3/:p/volumes/:id', async (req, reply) => sendNova(reply, 404, `Volume ${req.params.id} could not be found.`));
    app.get('/v3/:p/limits', async () => ({
      limits: { rate: [], absolute: { maxTotalVolumes: 0, maxTotalSnapshots: 0, maxTotalVolumeGigabytes: 0, maxTotalBackups: 0, maxTotalBackupGigabytes: 0, totalVolumesUsed: 0, totalSnapshotsUsed: 0, totalGigabytesUsed: 0, totalBackupsUsed: 0, totalBackupGigabytesUsed: 0 } },
    }));
    app.get<P>('/v3/:p/os-quota-sets/:id', async (req) => {
      if (!isAdminOrOwner(req.ctx, req.params.id)) throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
      return { quota_set: { id: req.params.id, volumes: 0, snapshots: 0, gigabytes: 0, backups: 0, backup_gigabytes: 0, per_volume_gigabytes: -1, groups: 0 } };
    });
  };
}

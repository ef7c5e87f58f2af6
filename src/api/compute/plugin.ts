/**
 * The compute API (Nova v2.1), mounted under /compute: microversion gate, token validation, reader-only
 * callers refused on writes, Nova error bodies (405 badMethod for a known path with another method), and the
 * route files.
 */
import type { FastifyInstance } from 'fastify';
import { computeDeps, type ComputeInputs } from './deps.js';
import type { IdentityService } from '../../controller/identity/service.js';
import { installMicroversion } from './microversion.js';
import { installAuth } from '../auth.js';
import { novaErrorHandler, sendNova } from '../errors.js';
import { collectRoutes, notFoundOrBadMethod } from '../method-not-allowed.js';
import { canWrite } from '../../controller/context.js';
import { forbidden } from '../../controller/errors.js';
import { registerVersionRoutes } from './versions.js';
import { registerServerRoutes } from './routes/servers.js';
import { registerServerActionRoutes } from './routes/server-actions.js';
import { registerServerMetadataRoutes } from './routes/server-metadata.js';
import { registerServerTagRoutes } from './routes/server-tags.js';
import { registerInterfaceRoutes } from './routes/interfaces.js';
import { registerInstanceActionRoutes } from './routes/instance-actions.js';
import { registerFlavorRoutes } from './routes/flavors.js';
import { registerKeypairRoutes } from './routes/keypairs.js';
import { registerServerGroupRoutes } from './routes/server-groups.js';
import { registerAvailabilityZoneRoutes } from './routes/availability-zones.js';
import { registerLimitRoutes } from './routes/limits.js';
import { registerImageProxyRoutes } from './routes/images-proxy.js';
import { registerMigrationRoutes } from './routes/migrations.js';
import { registerServiceRoutes } from './routes/services.js';
import { registerAggregateRoutes } from './routes/aggregates.js';
import { registerUsageRoutes } from './routes/usage.js';
import { registerVolumeAttachmentRoutes } from './routes/volume-attachments.js';
import './schemas/formats.js';

export function computePlugin(inputs: ComputeInputs, identity: IdentityService) {
  const d = computeDeps(inputs);
  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler(novaErrorHandler);
    app.setNotFoundHandler(notFoundOrBadMethod(collectRoutes(app), sendNova));
    installMicroversion(app);
    installAuth(app, identity);
    app.addHook('preHandler', async (req) => {
      if (req.routeOptions.config?.public || req.method === 'GET' || req.method === 'HEAD') return;
      if (!canWrite(req.ctx)) throw forbidden();
    });
    registerVersionRoutes(app, d.urls);
    registerServerRoutes(app, d);
    registerServerActionRoutes(app, d);
    registerServerMetadataRoutes(app, d);
    registerServerTagRoutes(app, d);
    registerInterfaceRoutes(app, d);
    registerInstanceActionRoutes(app, d);
    registerFlavorRoutes(app, d);
    registerKeypairRoutes(app, d);
    registerServerGroupRoutes(app, d);
    registerAvailabilityZoneRoutes(app, d);
    registerLimitRoutes(app, d);
    registerImageProxyRoutes(app, d);
    registerMigrationRoutes(app, d);
    registerServiceRoutes(app, d);
    registerVolumeAttachmentRoutes(app, d);
    registerAggregateRoutes(app, d);
    registerUsageRoutes(app, d);
  };
}

/**
 * buildControllerApp: the controller's HTTP application, assembled here (the API layer) from the controller's
 * services, so that dependencies point one way: cli -> api -> controller -> store/rpc. One fastify instance serves every API under its prefix
 * (devstack's layout): /identity (Keystone v3), /compute (Nova v2.1), /image (Glance v2), /network (a
 * read-only Neutron v2.0 subset), /volume (an empty Cinder v3 placeholder). The `novalet controller`
 * command (src/cli/) calls this, then listen(); tests call it and use inject().
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/index.js';
import { PREFIX, type ControllerConfig } from '../controller/config.js';
import type { HostTransport } from '../controller/hosts/transport.js';
import { ComputeController } from '../controller/compute/index.js';
import { IdentityService } from '../controller/identity/service.js';
import type { ImageService } from '../controller/images/service.js';
import { installRequestId } from './request-id.js';
import { installJsonParser } from './json-parser.js';
import { installEncodedBodies } from './encoded-body.js';
import { clientErrorHandler, frameworkErrors } from './framework-errors.js';
import { errorBodyFor, sendKeystone, toApiError } from './errors.js';
import { computePlugin } from './compute/plugin.js';
import { computeUrls } from './compute/urls.js';
import { identityPlugin, identityVersion } from './identity/routes.js';
import { imagePlugin } from './image/routes.js';
import { networkPlugin } from './network/routes.js';
import { volumePlugin } from './volume/routes.js';
import { ControllerMetrics } from './metrics.js';
import './types.js';

export interface ControllerServices {
  identity: IdentityService;
  compute: ComputeController;
  images: ImageService;
}

/**
 * Kept out of every log line: tokens and passwords in headers (fastify's request serializer logs no headers and no
 * body today; these paths keep it so if a serializer or a log call adds them), and request bodies' secrets.
 */
export const LOG_REDACT = {
  paths: [
    'req.headers["x-auth-token"]', 'req.headers["x-subject-token"]', 'req.headers.authorization', 'req.headers.cookie',
    'res.headers["x-subject-token"]', 'headers["x-auth-token"]', 'headers["x-subject-token"]', 'headers.authorization',
    'req.body', 'body', '*.password', '*.adminPass', '*.user_data', '*.userData',
  ],
  censor: '[redacted]',
};

declare module 'fastify' {
  interface FastifyInstance { novalet: ControllerServices; }
}

export function buildControllerApp(
  config: ControllerConfig,
  store: Store,
  hosts: HostTransport,
  opts: {
    logger?: FastifyServerOptions['logger']; loggerInstance?: FastifyServerOptions['loggerInstance']; periodic?: boolean;
    /** this controller's id for task ownership (default: a new one, i.e. a controller that owns no earlier tasks) */
    controllerId?: string;
    /** crash-test fault injection (tasks/engine.ts) */
    failpoints?: ReadonlyMap<string, 'before' | 'after'>;
    /** prom-client's process metrics (CPU, memory, GC, event-loop lag) in /metrics too (the CLI; tests leave them off) */
    processMetrics?: boolean;
  } = {},
): FastifyInstance {
  const metrics = new ControllerMetrics({ defaultMetrics: opts.processMetrics ?? false });
  const logger = opts.logger ? { ...(typeof opts.logger === 'object' ? opts.logger : {}), redact: LOG_REDACT } : false;
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance.child({}, { redact: LOG_REDACT }) } : { logger }),
    // user_data is at most 64 KiB base64; image uploads stream and are not subject to this limit
    bodyLimit: 1024 * 1024,
    // request ids are ours (req-<uuid>), not fastify's counters
    genReqId: () => '',
    return503OnClosing: true,
    // key pair names are up to 255 characters (fastify's default of 100 made longer ones unreachable)
    routerOptions: { maxParamLength: 1024 },
    // errors answered before any route runs, in the service's own shape too
    frameworkErrors: (err, req, reply) => frameworkErrors(err, req, reply as FastifyReply),
    clientErrorHandler,
  });
  const identity = new IdentityService(store, config);
  const compute = new ComputeController(store, config, hosts, {
    controllerId: opts.controllerId ?? `controller-${randomUUID()}`,
    ...(opts.failpoints ? { failpoints: opts.failpoints } : {}),
    log: { error: (o, m) => app.log.error(o, m), info: (o, m) => app.log.info(o, m) },
    observe: { taskFinished: metrics.taskFinished, placement: metrics.placement },
  });
  const images = compute.images;
  app.decorate('novalet', { identity, compute, images });
  app.decorateRequest('ctx', null as never);

  installRequestId(app);
  installJsonParser(app);
  installEncodedBodies(app);
  // /metrics, /healthz, /readyz: unauthenticated, outside every service prefix; ready once listening and the
  // store answers a trivial query
  metrics.install(app, compute.hosts, async () => app.server.listening && (await store.getSetting('readyz'), true));

  const base = config.publicUrl.replace(/\/+$/, '');
  app.register(identityPlugin(identity, store, `${base}${PREFIX.identity}`), { prefix: PREFIX.identity });
  app.register(computePlugin({ store, cfg: config, compute, images, urls: computeUrls(config) }, identity), { prefix: PREFIX.compute });
  app.register(imagePlugin(identity, images, `${base}${PREFIX.image}`), { prefix: PREFIX.image });
  app.register(networkPlugin(identity, compute.network, `${base}${PREFIX.network}`), { prefix: PREFIX.network });
  app.register(volumePlugin(identity, compute, `${base}${PREFIX.volume}`), { prefix: PREFIX.volume });

  // an auth URL without a path discovers identity here
  app.get('/', async (_req, reply) => reply.code(300).send({ versions: { values: [identityVersion(`${base}${PREFIX.identity}`)] } }));
  app.setNotFoundHandler((_req, reply) => { sendKeystone(reply, 404, 'The resource could not be found.'); });
  // outside every plugin (a body that fails to parse on an unknown path): the shape the path's prefix names
  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err, req);
    return reply.code(e.status).type('application/json').send(errorBodyFor(req.url)(e.status, e.message));
  });

  // the config file's networks are in the store before the first request (network/networks.ts)
  app.addHook('onReady', async () => { await compute.network.networks.ready(); });
  if (opts.periodic !== false) compute.startPeriodic();
  app.addHook('onClose', async () => { await compute.close(); });
  return app;
}

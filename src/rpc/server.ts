import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { installProbes, PROBE_PATHS, type Probes } from '../common/probes.js';
import { bearer, secretMatches } from './auth.js';
import type { AgentBackend } from './backend.js';
import { AgentError, ERROR_STATUS, type ErrorCode } from './errors.js';
import { ErrorBody } from './protocol/common.js';
import { EventsQuery, EventsResponse, Inventory } from './protocol/inventory.js';
import {
  ByRequestParams, FINISHED_STATES, GetOperationQuery, OperationIdParams, OperationResponse, SubmitOperationRequest,
} from './protocol/operations.js';
import { ConsoleQuery, ConsoleResponse, InstanceFileParams, InstanceFilesResponse, ListServersResponse, ServerResponse, ServerUuidParams } from './protocol/servers.js';
import {
  ListNetworksResponse, NetworkIdParams, NetworkResponse, NetworkSpec, PeerChangesRequest, PeerChangesResponse, PortIdParams, PutPortSecurityRequest,
} from './protocol/networks.js';
import {
  LiveMigrationActionResponse, LiveMigrationResponse, StorageMarker, StorageMarkerCheck, StorageMarkerParams,
} from './protocol/live-migration.js';
import { HEADER_PROTOCOL, HEADER_REQUEST_ID, PROTOCOL, SUPPORTED_PROTOCOLS } from './protocol/version.js';

export interface RpcServerOptions {
  backend: AgentBackend;
  secret: string;
  log: Logger;
  /**
   * HTTPS with this certificate. `clientCa`: mutual TLS — every request but the probes must come with a client
   * certificate signed by that CA (the controller's, made by `novalet pki`); it then authenticates the caller and
   * the cluster secret is not needed. Without `clientCa` the bearer secret is the authentication.
   */
  tls?: { cert: string; key: string; clientCa?: string | undefined } | undefined;
  /**
   * GET /healthz, /readyz and /metrics (src/common/probes.ts), answered without the secret and the protocol
   * header: they reveal no secret. Absent (the simulated hosts): not served.
   */
  probes?: Probes | undefined;
}

// The response schemas document the protocol (and type the client); they are not compiled into serializers
// (see setSerializerCompiler below), so one entry per status range is enough.
const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody };

/**
 * The agent's RPC server (protocol novalet-agent/1). Every request must carry
 *   Authorization: Bearer <cluster secret>    -> else 401 unauthorized (checked first; nothing else runs)
 *   x-novalet-protocol: novalet-agent/1       -> else 400 unsupported_version
 *   x-request-id: <id>                        (optional; generated if absent; echoed; in every log line)
 * Errors are {error: {code, message, requestId}} with a stable code (src/rpc/errors.ts).
 */
export function createRpcServer(o: RpcServerOptions): FastifyInstance {
  const mutual = !!o.tls?.clientCa;
  // requestCert without rejectUnauthorized: the handshake completes for probes (no certificate needed); every
  // other request is refused below unless the certificate verified against clientCa
  const https = o.tls ? {
    cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key),
    ...(o.tls.clientCa ? { ca: readFileSync(o.tls.clientCa), requestCert: true, rejectUnauthorized: false } : {}),
  } : null;
  const app = Fastify({
    loggerInstance: o.log.child({ component: 'rpc' }),
    requestIdHeader: HEADER_REQUEST_ID,
    // request ids appear as `requestId` in every log line of a request; one access-log line per request, written
    // when it is answered (see onResponse), instead of fastify's two
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    genReqId: () => `req-${randomUUID()}`,
    bodyLimit: 1024 * 1024,
    // what the router refuses before any hook runs (a malformed %-escape, an over-long path parameter) is a
    // typed bad_request too, not fastify's own {error, code: FST_*} body
    frameworkErrors: (err, req, reply) => {
      void (reply as FastifyReply).code(ERROR_STATUS.bad_request).header(HEADER_REQUEST_ID, req.id)
        .send({ error: { code: 'bad_request', message: err.message, requestId: String(req.id) } });
    },
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;

  // Plain JSON.stringify instead of fast-json-stringify: its serializers for our unions (operation kind, state,
  // power, error code) run an ajv validation per branch on every response (measured: ~10 % of the agent's CPU
  // per operation), and 21 compiled serializers cost memory the agent does not have (target < 80 MB).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const fail = (reply: FastifyReply, code: ErrorCode, message: string): FastifyReply =>
    reply.code(ERROR_STATUS[code]).send({ error: { code, message, requestId: String(reply.request.id) } });

  app.addHook('onRequest', async (req, reply) => {
    reply.header(HEADER_REQUEST_ID, req.id);
    // the probe routes exist only when `probes` was given (an unknown path still needs the secret)
    if (o.probes && req.routeOptions.url !== undefined && PROBE_PATHS.has(req.routeOptions.url)) return;
    if (mutual) {
      if (!(req.raw.socket as TLSSocket).authorized) return fail(reply, 'unauthorized', 'a client certificate signed by the cluster CA is required');
    } else if (!secretMatches(bearer(req.headers.authorization), o.secret)) return fail(reply, 'unauthorized', 'missing or wrong cluster secret');
    const proto = req.headers[HEADER_PROTOCOL];
    if (typeof proto !== 'string' || !SUPPORTED_PROTOCOLS.includes(proto)) {
      return fail(reply, 'unsupported_version', `protocol ${String(proto ?? '(none)')} not supported; this agent speaks ${SUPPORTED_PROTOCOLS.join(', ')}`);
    }
    reply.header(HEADER_PROTOCOL, PROTOCOL);
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  app.setErrorHandler((err: FastifyError | AgentError, req, reply) => {
    if (err instanceof AgentError) return fail(reply, err.code, err.message);
    if ((err as FastifyError).validation || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
      return fail(reply, 'bad_request', err.message);
    }
    req.log.error({ err }, 'internal error');
    return fail(reply, 'internal', err.message);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 'bad_request', `no endpoint ${req.method} ${req.url}`));

  if (o.probes) installProbes(app, o.probes);
  const b = o.backend;
  app.post('/v1/operations', { schema: { body: SubmitOperationRequest, querystring: GetOperationQuery, response: { '2xx': OperationResponse, ...errorResponses } } },
    async (req, reply) => {
      const body = req.body as SubmitOperationRequest;
      const { wait } = req.query as { wait?: number };
      const res = b.submit(body);
      req.log.info({ opId: res.operation.id, kind: body.kind, server: body.serverUuid, duplicate: res.duplicate ?? false, opRequestId: body.requestId }, 'operation submitted');
      // ?wait=<s>: submit and long-poll in one round trip (the status still says new (202) or known (200))
      const operation = wait && !FINISHED_STATES.includes(res.operation.state) ? await b.getOperation(res.operation.id, wait * 1000) : res.operation;
      return reply.code(res.duplicate ? 200 : 202).send({ ...res, operation });
    });
  app.get('/v1/operations/:id', { schema: { params: OperationIdParams, querystring: GetOperationQuery, response: { 200: OperationResponse, ...errorResponses } } },
    async (req) => {
      const { id } = req.params as { id: string };
      const { wait } = req.query as { wait?: number };
      return { operation: await b.getOperation(id, (wait ?? 0) * 1000) };
    });
  app.get('/v1/operations/by-request/:requestId', { schema: { params: ByRequestParams, querystring: GetOperationQuery, response: { 200: OperationResponse, ...errorResponses } } },
    async (req) => {
      const { requestId } = req.params as { requestId: string };
      const { wait } = req.query as { wait?: number };
      return { operation: await b.getOperationByRequestId(requestId, (wait ?? 0) * 1000) };
    });
  app.get('/v1/servers', { schema: { response: { 200: ListServersResponse, ...errorResponses } } }, async () => b.listServers());
  app.get('/v1/servers/:uuid', { schema: { params: ServerUuidParams, response: { 200: ServerResponse, ...errorResponses } } },
    async (req) => b.getServer((req.params as { uuid: string }).uuid));
  app.get('/v1/servers/:uuid/console', { schema: { params: ServerUuidParams, querystring: ConsoleQuery, response: { 200: ConsoleResponse, ...errorResponses } } },
    async (req) => b.consoleOutput((req.params as { uuid: string }).uuid, (req.query as ConsoleQuery).lines ?? null));

  // a migration's target pulls the source's instance files (read-only; the guest is shut off)
  app.get('/v1/servers/:uuid/files', { schema: { params: ServerUuidParams, response: { 200: InstanceFilesResponse, ...errorResponses } } },
    async (req) => b.instanceFiles((req.params as { uuid: string }).uuid));
  app.get('/v1/servers/:uuid/files/:name', { schema: { params: InstanceFileParams } }, async (req, reply) => {
    const p = req.params as { uuid: string; name: string };
    const f = await b.openInstanceFile(p.uuid, p.name);
    return reply.type('application/octet-stream').header('content-length', f.sizeBytes).send(f.stream);
  });
  // live migration (source host): progress while it runs, abort, force-complete
  app.get('/v1/servers/:uuid/live-migration', { schema: { params: ServerUuidParams, response: { 200: LiveMigrationResponse, ...errorResponses } } },
    async (req) => b.liveMigration((req.params as { uuid: string }).uuid));
  app.post('/v1/servers/:uuid/live-migration/abort', { schema: { params: ServerUuidParams, response: { 200: LiveMigrationActionResponse, ...errorResponses } } },
    async (req) => b.liveMigrationAction((req.params as { uuid: string }).uuid, 'abort'));
  app.post('/v1/servers/:uuid/live-migration/force-complete', { schema: { params: ServerUuidParams, response: { 200: LiveMigrationActionResponse, ...errorResponses } } },
    async (req) => b.liveMigrationAction((req.params as { uuid: string }).uuid, 'force-complete'));
  // shared instance storage check (Nova's check_can_live_migrate): marker on one host, looked for on the other
  app.post('/v1/storage/markers', { schema: { response: { 200: StorageMarker, ...errorResponses } } }, async () => b.createStorageMarker());
  app.get('/v1/storage/markers/:marker', { schema: { params: StorageMarkerParams, response: { 200: StorageMarkerCheck, ...errorResponses } } },
    async (req) => b.checkStorageMarker((req.params as { marker: string }).marker));
  app.delete('/v1/storage/markers/:marker', { schema: { params: StorageMarkerParams, response: { 200: StorageMarker, ...errorResponses } } },
    async (req) => b.removeStorageMarker((req.params as { marker: string }).marker));
  // the heartbeat: polled every few seconds, so its request/response lines would drown the log at info
  app.get('/v1/inventory', { logLevel: 'warn', schema: { response: { 200: Inventory, ...errorResponses } } }, async (req) => b.inventory(req.socket.localAddress));
  // tenant networks (issue 12): idempotent "make it so"
  app.put('/v1/networks/:networkId', { schema: { params: NetworkIdParams, body: NetworkSpec, response: { 200: NetworkResponse, ...errorResponses } } },
    async (req) => b.putNetwork((req.params as { networkId: string }).networkId, req.body as NetworkSpec, req.socket.localAddress));
  app.delete('/v1/networks/:networkId', { schema: { params: NetworkIdParams, response: { ...errorResponses } } },
    async (req, reply) => {
      await b.deleteNetwork((req.params as { networkId: string }).networkId);
      return reply.code(204).send();
    });
  app.get('/v1/networks', { schema: { response: { 200: ListNetworksResponse, ...errorResponses } } }, async () => b.listNetworks());
  app.post('/v1/network-peers', { schema: { body: PeerChangesRequest, response: { 200: PeerChangesResponse, ...errorResponses } } },
    async (req) => b.changePeers(req.body as PeerChangesRequest));
  app.put('/v1/ports/:portId/security', { schema: { params: PortIdParams, body: PutPortSecurityRequest, response: { ...errorResponses } } },
    async (req) => {
      await b.putPortSecurity((req.params as { portId: string }).portId, (req.body as PutPortSecurityRequest).security);
      return { portId: (req.params as { portId: string }).portId };
    });
  app.get('/v1/events', { schema: { querystring: EventsQuery, response: { 200: EventsResponse, ...errorResponses } } },
    async (req) => {
      const q = req.query as { since?: number; wait?: number };
      return b.events(q.since ?? 0, (q.wait ?? 0) * 1000);
    });
  return app;
}

/**
 * Image API (Glance v2 subset) under /image: version discovery (300), list/show/filter by name, create, JSON-patch
 * update, upload (PUT .../file, streamed to disk), download, delete. Extra properties (kernel_id, ramdisk_id,
 * os_distro ...) are top-level keys, as in Glance.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { IdentityService } from '../../controller/identity/service.js';
import type { ImageService } from '../../controller/images/service.js';
import type { Image } from '../../store/index.js';
import { installAuth } from '../auth.js';
import { keystoneErrorHandler, sendKeystone } from '../errors.js';
import { collectRoutes, notFoundOrBadMethod } from '../method-not-allowed.js';
import { badRequest, conflict, forbidden } from '../../controller/errors.js';
import { canWrite } from '../../controller/context.js';
import { lastParam, parseLimit } from '../query.js';

const CORE = new Set(['id', 'name', 'visibility', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected', 'tags',
  'status', 'owner', 'size', 'checksum', 'created_at', 'updated_at', 'self', 'file', 'schema', 'os_hash_algo', 'os_hash_value',
  'virtual_size', 'direct_url', 'locations', 'os_hidden']);
const READONLY = new Set(['id', 'status', 'owner', 'size', 'checksum', 'created_at', 'updated_at', 'self', 'file', 'schema', 'os_hash_algo', 'os_hash_value', 'virtual_size', 'direct_url', 'locations']);
/** Glance's api_limit_max */
const API_LIMIT_MAX = 1000;
/** Glance's default disk_formats and container_formats */
const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
/** null, or a string of `allowed` (Glance's schema: {"enum": [null, ...]}) */
function format(key: string, value: unknown, allowed: string[]): string | null {
  if (value === null || (typeof value === 'string' && allowed.includes(value))) return value;
  throw badRequest(`Invalid value ${show(value)} for '${key}': must be one of ${allowed.join(', ')}`);
}
/** a client's JSON value in a message (String() throws on {"toString": null}) */
const show = (v: unknown): string => (JSON.stringify(v) ?? 'null').slice(0, 100);
const VIS = new Set(['public', 'private', 'shared', 'community']);
const secs = (t: string) => t.replace(/\.\d{3}Z$/, 'Z');

export function imageView(i: Image) {
  return {
    ...i.properties,
    id: i.id, name: i.name, status: i.status, visibility: i.visibility, protected: i.protected, os_hidden: false,
    checksum: i.checksum, os_hash_algo: i.osHashAlgo, os_hash_value: i.osHashValue, owner: i.owner, size: i.size,
    virtual_size: null, min_ram: i.minRam, min_disk: i.minDisk, disk_format: i.diskFormat, container_format: i.containerFormat,
    created_at: secs(i.createdAt), updated_at: secs(i.updatedAt), tags: i.tags,
    self: `/v2/images/${i.id}`, file: `/v2/images/${i.id}/file`, schema: '/v2/schemas/image',
  };
}

/** a body key -> Image field change (core attributes validated, anything else a string property) */
function applyField(changes: Partial<Image> & { properties: Record<string, string> }, key: string, value: unknown): void {
  if (READONLY.has(key)) throw forbidden(`Attribute '${key}' is read-only.`);
  switch (key) {
    case 'name': if (value !== null && (typeof value !== 'string' || value.length > 255)) throw badRequest("Invalid value for 'name'"); changes.name = value as string | null; return;
    case 'visibility': if (typeof value !== 'string' || !VIS.has(value)) throw badRequest(`Invalid visibility value: ${show(value)}`); changes.visibility = value as Image['visibility']; return;
    case 'disk_format': changes.diskFormat = format(key, value, DISK_FORMATS); return;
    case 'container_format': changes.containerFormat = format(key, value, CONTAINER_FORMATS); return;
    case 'min_disk': case 'min_ram':
      if (!Number.isInteger(value) || (value as number) < 0) throw badRequest(`Invalid value for '${key}'`);
      if (key === 'min_disk') changes.minDisk = value as number; else changes.minRam = value as number; return;
    case 'protected': if (typeof value !== 'boolean') throw badRequest("Invalid value for 'protected'"); changes.protected = value; return;
    case 'tags': if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) throw badRequest("Invalid value for 'tags'"); changes.tags = value as string[]; return;
    case 'os_hidden': return;
    default:
      if (typeof value !== 'string') throw badRequest(`Additional property '${key}' must be a string`);
      changes.properties[key] = value;
  }
}

export function imagePlugin(identity: IdentityService, images: ImageService, base: string) {
  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler(keystoneErrorHandler);
    app.setNotFoundHandler(notFoundOrBadMethod(collectRoutes(app), sendKeystone));
    // uploads stream straight to disk: hand the raw request stream to the route
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    installAuth(app, identity);
    app.addHook('preHandler', async (req) => {
      if (req.routeOptions.config?.public || req.method === 'GET' || req.method === 'HEAD') return;
      if (!canWrite(req.ctx)) throw forbidden('You are not authorized to complete this action.');
    });

    const versions = async (_req: FastifyRequest, reply: FastifyReply) => reply.code(300).send({
      versions: ['2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'].map((v, i) => ({
        id: `v${v}`, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href: `${base}/v2/` }],
      })),
    });
    app.get('/', { config: { public: true } }, versions);
    app.get('/versions', { config: { public: true } }, versions);

    type P = { Params: { id: string } };
    app.get('/v2/images', async (req) => {
      const q = Object.fromEntries(Object.entries(req.query as Record<string, unknown>).map(([k, v]) => [k, lastParam(v)]));
      const limit = parseLimit(q.limit, API_LIMIT_MAX) ?? 25;
      const list = await images.list(req.ctx, {
        ...(q.name !== undefined ? { name: q.name } : {}), ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.visibility !== undefined && q.visibility !== 'all' ? { visibility: q.visibility } : {}),
        limit, ...(q.marker !== undefined ? { marker: q.marker } : {}),
      });
      const body: Record<string, unknown> = { images: list.map(imageView), schema: '/v2/schemas/images', first: '/v2/images' };
      if (list.length === limit && limit > 0) {
        const p = new URLSearchParams(Object.entries(q).filter(([k, v]) => k !== 'marker' && v !== undefined) as Array<[string, string]>);
        p.set('marker', list[list.length - 1]!.id);
        body.next = `/v2/images?${p.toString()}`;
      }
      return body;
    });
    app.get<P>('/v2/images/:id', async (req) => imageView(await images.get(req.ctx, req.params.id)));

    app.post('/v2/images', async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('Malformed request body');
      const changes = { properties: {} as Record<string, string> } as Partial<Image> & { properties: Record<string, string> };
      for (const [k, v] of Object.entries(b)) if (k !== 'id') applyField(changes, k, v);
      if (b.id !== undefined && (typeof b.id !== 'string' || !/^[0-9a-f-]{36}$/i.test(b.id))) throw badRequest('Invalid id');
      const img = await images.create(req.ctx, {
        ...(typeof b.id === 'string' ? { id: b.id } : {}),
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}),
        ...(changes.diskFormat !== undefined ? { diskFormat: changes.diskFormat } : {}),
        ...(changes.containerFormat !== undefined ? { containerFormat: changes.containerFormat } : {}),
        ...(changes.minDisk !== undefined ? { minDisk: changes.minDisk } : {}),
        ...(changes.minRam !== undefined ? { minRam: changes.minRam } : {}),
        ...(changes.protected !== undefined ? { protected: changes.protected } : {}),
        ...(changes.tags !== undefined ? { tags: changes.tags } : {}),
        properties: changes.properties,
      });
      reply.header('Location', `${base}/v2/images/${img.id}`);
      return reply.code(201).send(imageView(img));
    });

    // JSON patch (application/openstack-images-v2.1-json-patch): add / replace / remove of top-level attributes
    app.patch<P>('/v2/images/:id', async (req) => {
      const cur = await images.get(req.ctx, req.params.id);
      const ops = req.body;
      if (!Array.isArray(ops)) throw badRequest('Malformed request body');
      const changes = { properties: { ...cur.properties } } as Partial<Image> & { properties: Record<string, string> };
      for (const raw of ops as unknown[]) {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('Operations must be JSON objects.');
        const op = raw as Record<string, unknown>;
        const path = typeof op.path === 'string' ? op.path.replace(/^\//, '') : '';
        if (!path || path.includes('/')) throw badRequest(`Invalid JSON pointer for this resource: '${show(op.path)}'`);
        if (op.op === 'add' || op.op === 'replace') applyField(changes, path, op.value);
        else if (op.op === 'remove') {
          if (CORE.has(path)) throw forbidden(`Attribute '${path}' cannot be removed.`);
          if (!Object.hasOwn(changes.properties, path)) throw conflict(`Property ${path} does not exist.`);
          delete changes.properties[path];
        } else throw badRequest(`Unsupported patch operation: ${show(op.op)}`);
      }
      return imageView(await images.update(req.ctx, req.params.id, changes));
    });

    app.put<P>('/v2/images/:id/file', async (req, reply) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') throw badRequest('Upload needs Content-Type: application/octet-stream');
      await images.upload(req.ctx, req.params.id, body);
      return reply.code(204).send();
    });
    app.get<P>('/v2/images/:id/file', async (req, reply) => {
      const r = await images.download(req.ctx, req.params.id).catch((e) => { if ((e as { status?: number }).status === 204) return null; throw e; });
      if (!r) return reply.code(204).send();
      reply.header('Content-Type', 'application/octet-stream');
      reply.header('Content-Length', String(r.size));
      if (r.image.checksum) reply.header('Content-MD5', r.image.checksum);
      return reply.send(r.stream);
    });
    app.delete<P>('/v2/images/:id', async (req, reply) => {
      await images.delete(req.ctx, req.params.id);
      return reply.code(204).send();
    });
  };
}

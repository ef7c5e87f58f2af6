/** The compute image proxy (/images) that microversions < 2.36 use; 404 from 2.36 (Nova removed it). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { requireVersion } from '../microversion.js';
import { links } from '../urls.js';
import { lastParam, parseLimit } from '../../query.js';
import { notFound } from '../../../controller/errors.js';
import type { Image } from '../../../store/index.js';

const STATUS: Record<string, string> = { active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', killed: 'ERROR', deleted: 'DELETED', deactivated: 'ERROR', uploading: 'SAVING', importing: 'SAVING' };
type P = { Params: { id: string } };

export function registerImageProxyRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const detail = (i: Image) => ({
    id: i.id, name: i.name, status: STATUS[i.status] ?? 'UNKNOWN', progress: i.status === 'active' ? 100 : 25,
    minDisk: i.minDisk, minRam: i.minRam, created: i.createdAt.replace(/\.\d{3}Z$/, 'Z'), updated: i.updatedAt.replace(/\.\d{3}Z$/, 'Z'),
    metadata: i.properties, 'OS-EXT-IMG-SIZE:size': i.size ?? 0,
    links: [...links(d.urls, 'images', i.id), { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${d.urls.image}/images/${i.id}` }],
    ...(i.properties.instance_uuid ? { server: { id: i.properties.instance_uuid, links: links(d.urls, 'servers', i.properties.instance_uuid) } } : {}),
  });
  const list = (full: boolean) => async (req: FastifyRequest) => {
    requireVersion(req, '2.1', '2.35');
    const q = req.query as Record<string, unknown>;
    const limit = parseLimit(q.limit, d.cfg.maxLimit);
    const name = lastParam(q.name); const marker = lastParam(q.marker);
    const imgs = await d.images.list(req.ctx, { ...(name ? { name } : {}), ...(limit !== undefined ? { limit } : {}), ...(marker ? { marker } : {}) });
    return { images: imgs.map((i) => (full ? detail(i) : { id: i.id, name: i.name, links: links(d.urls, 'images', i.id) })) };
  };
  app.get('/v2.1/images', list(false));
  app.get('/v2.1/images/detail', list(true));
  app.get<P>('/v2.1/images/:id', async (req) => {
    requireVersion(req, '2.1', '2.35');
    try { return { image: detail(await d.images.get(req.ctx, req.params.id)) }; } catch { throw notFound('Image not found.'); }
  });
  app.delete<P>('/v2.1/images/:id', async (req, reply) => {
    requireVersion(req, '2.1', '2.35');
    await d.images.delete(req.ctx, req.params.id);
    return reply.code(204).send();
  });
}

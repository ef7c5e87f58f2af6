/** Version documents: `GET /` (all versions) and `GET /v2.1` (this one). Public, no token needed. */
import type { FastifyInstance } from 'fastify';
import { MAX_VERSION, MIN_VERSION } from './microversion.js';
import type { Urls } from './urls.js';

export function versionDoc(u: Urls) {
  return {
    id: 'v2.1', status: 'CURRENT', version: MAX_VERSION, min_version: MIN_VERSION, updated: '2013-07-23T11:33:21Z',
    links: [
      { rel: 'self', href: `${u.versioned}/` },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

export function registerVersionRoutes(app: FastifyInstance, u: Urls): void {
  const list = () => ({
    versions: [
      { id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', links: [{ rel: 'self', href: `${u.root}/v2/` }] },
      { id: 'v2.1', status: 'CURRENT', version: MAX_VERSION, min_version: MIN_VERSION, updated: '2013-07-23T11:33:21Z', links: [{ rel: 'self', href: `${u.versioned}/` }] },
    ],
  });
  app.get('/', { config: { public: true } }, async () => list());
  app.get('/v2.1', { config: { public: true } }, async () => ({ version: versionDoc(u) }));
  app.get('/v2.1/', { config: { public: true } }, async () => ({ version: versionDoc(u) }));
}

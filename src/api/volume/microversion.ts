/**
 * Block Storage microversions: `OpenStack-API-Version: volume 3.X` (no header: 3.0; `latest`: the maximum). Out of
 * range: 406, malformed: 400, as Cinder. Every response echoes the version with `Vary`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../controller/errors.js';

export const MIN_VERSION = '3.0';
export const MAX_VERSION = '3.70';
const enc = (v: string) => { const [a, b] = v.split('.'); return Number(a) * 1000 + Number(b); };
const versions = new WeakMap<FastifyRequest, number>();

export const atLeast = (req: FastifyRequest, v: string): boolean => (versions.get(req) ?? enc(MIN_VERSION)) >= enc(v);

function parse(req: FastifyRequest): number {
  const h = req.headers['openstack-api-version'];
  let raw: string | undefined;
  if (typeof h === 'string') {
    for (const part of h.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/);
      if (svc?.toLowerCase() === 'volume') raw = ver ?? '';
    }
  }
  if (raw === undefined) return enc(MIN_VERSION);
  if (raw.toLowerCase() === 'latest') return enc(MAX_VERSION);
  const m = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(raw);
  if (!m) throw new ApiError('invalid_microversion', `Invalid API version: ${raw}`);
  const n = Number(m[1]) * 1000 + Number(m[2]);
  if (Number(m[2]) >= 1000 || n < enc(MIN_VERSION) || n > enc(MAX_VERSION)) {
    throw new ApiError('not_acceptable_version', `Version ${raw} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`);
  }
  return n;
}

export function installVolumeMicroversion(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('Vary', 'OpenStack-API-Version');
    reply.header('OpenStack-API-Version', `volume ${MIN_VERSION}`);
    const n = parse(req);
    versions.set(req, n);
    reply.header('OpenStack-API-Version', `volume ${Math.floor(n / 1000)}.${n % 1000}`);
  });
}

/** 404 for a resource that does not exist at the requested version */
export function requireVersion(req: FastifyRequest, min: string): void {
  if (!atLeast(req, min)) throw new ApiError('not_found', 'The resource could not be found.');
}

/**
 * Compute microversions. `OpenStack-API-Version: compute X.Y` wins over the legacy `X-OpenStack-Nova-API-Version`;
 * no header means 2.1; `latest` means MAX. Out of range: 406; malformed: 400. Every compute response echoes the
 * version in both headers with `Vary`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../controller/errors.js';

export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.93';
export const encode = (v: string): number => { const [a, b] = v.split('.'); return Number(a) * 1000 + Number(b); };
export const decode = (n: number): string => `${Math.floor(n / 1000)}.${n % 1000}`;
const MIN = encode(MIN_VERSION); const MAX = encode(MAX_VERSION);

/** encoded versions by their text: views ask atLeast() a dozen times per server of a 1,000-server page */
const encoded = new Map<string, number>();

/** true if the request's microversion is at least `v` */
export const atLeast = (req: FastifyRequest, v: string): boolean => {
  let n = encoded.get(v);
  if (n === undefined) { n = encode(v); encoded.set(v, n); }
  return req.mv >= n;
};

export function parseVersion(req: FastifyRequest): number {
  let raw: string | undefined;
  const h = req.headers['openstack-api-version'];
  if (typeof h === 'string') {
    for (const part of h.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/);
      if (svc?.toLowerCase() === 'compute') raw = ver ?? '';
    }
  }
  if (raw === undefined) {
    const legacy = req.headers['x-openstack-nova-api-version'];
    if (typeof legacy === 'string') raw = legacy.trim();
  }
  if (raw === undefined) return MIN;
  if (raw.toLowerCase() === 'latest') return MAX;
  const m = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(raw);
  if (!m) throw new ApiError('invalid_microversion', `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  // compared as (major, minor): 1.1093 is not 2.93, whatever the encoding of a supported version
  const major = Number(m[1]); const minor = Number(m[2]);
  const n = major * 1000 + minor;
  if (minor >= 1000 || n < MIN || n > MAX) throw new ApiError('not_acceptable_version', `Version ${raw} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`);
  return n;
}

export function installMicroversion(app: FastifyInstance): void {
  app.decorateRequest('mv', MIN);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    req.mv = MIN;
    req.mv = parseVersion(req);
    const v = decode(req.mv);
    reply.header('OpenStack-API-Version', `compute ${v}`);
    reply.header('X-OpenStack-Nova-API-Version', v);
  });
}

/** 404 for a route that does not exist at the requested version (Nova's rule) */
export function requireVersion(req: FastifyRequest, min: string, max?: string): void {
  if (req.mv < encode(min) || (max !== undefined && req.mv > encode(max))) throw new ApiError('not_found', 'The resource could not be found.');
}

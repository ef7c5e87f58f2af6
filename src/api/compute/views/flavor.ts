/** Flavor views. 2.55 adds description, 2.61 extra_specs, 2.75 swap as 0 instead of "". */
import type { FastifyRequest } from 'fastify';
import type { Flavor } from '../../../store/index.js';
import { atLeast } from '../microversion.js';
import { links, type Urls } from '../urls.js';

export function flavorBasic(req: FastifyRequest, u: Urls, f: Flavor) {
  const v: Record<string, unknown> = { id: f.id, links: links(u, 'flavors', f.id), name: f.name };
  if (atLeast(req, '2.55')) v.description = f.description;
  return v;
}

export function flavorDetail(req: FastifyRequest, u: Urls, f: Flavor) {
  const v: Record<string, unknown> = {
    id: f.id, name: f.name, ram: f.ram, disk: f.disk, vcpus: f.vcpus, links: links(u, 'flavors', f.id),
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral, 'OS-FLV-DISABLED:disabled': f.disabled,
    swap: f.swap === 0 && !atLeast(req, '2.75') ? '' : f.swap,
    rxtx_factor: f.rxtxFactor, 'os-flavor-access:is_public': f.isPublic,
  };
  if (atLeast(req, '2.55')) v.description = f.description;
  if (atLeast(req, '2.61')) v.extra_specs = f.extraSpecs;
  return v;
}

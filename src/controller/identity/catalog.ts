/** The service catalog every token carries; all services share one listener, distinguished by path prefix. */
import { createHash } from 'node:crypto';
import { PREFIX, type ControllerConfig } from '../config.js';

export interface CatalogEntry {
  type: string;
  name: string;
  id: string;
  endpoints: Array<{ id: string; interface: 'public'; region: string; region_id: string; url: string }>;
}

// stable ids so that catalogs compare equal across tokens and restarts
const sid = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 32);

export function buildCatalog(cfg: ControllerConfig, projectId: string | null): CatalogEntry[] {
  const base = cfg.publicUrl.replace(/\/+$/, '');
  const volume = `${base}${PREFIX.volume}/v3${projectId ? `/${projectId}` : ''}`;
  const services: Array<[string, string, string]> = [
    ['identity', 'keystone', `${base}${PREFIX.identity}/v3`],
    ['compute', 'nova', `${base}${PREFIX.compute}/v2.1`],
    ['image', 'glance', `${base}${PREFIX.image}`],
    ['network', 'neutron', `${base}${PREFIX.network}`],
    ['volumev3', 'cinderv3', volume],
    ['block-storage', 'cinder', volume],
  ];
  return services.map(([type, name, url]) => ({
    type, name, id: sid(type),
    endpoints: [{ id: sid(`${type}:public`), interface: 'public', region: cfg.region, region_id: cfg.region, url }],
  }));
}

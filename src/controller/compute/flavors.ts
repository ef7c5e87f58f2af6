/**
 * Flavors: lookup, listing, admin create/delete, description (2.55) and extra specs. The API checks the request's
 * shape and microversion; the rules (Nova's name pattern, unique id and name, its is_public strings, rxtx_factor > 0)
 * and every store access are here.
 */
import { randomUUID } from 'node:crypto';
import { FLAVOR_SORT_COLUMNS, type Flavor, type Store } from '../../store/index.js';
import { badRequest, conflict, markerNotFound, notFound } from '../errors.js';

const NAME_RE = /^(?! )[\S ]*(?<! )$/;

/** Nova's boolean strings for is_public (query filter and create body); undefined gives `dflt` */
export function parseIsPublic(v: string | boolean | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  const s = v.toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw badRequest(`Invalid is_public filter [${v}]`);
}

/** a create body's flavor, as the API validated it (numbers may still be digit strings) */
export interface FlavorInput {
  id?: string | null | undefined;
  name: string;
  ram: number | string;
  vcpus: number | string;
  disk: number | string;
  ephemeral?: number | string | undefined;
  swap?: number | string | undefined;
  rxtxFactor?: number | string | undefined;
  isPublic?: boolean | string | undefined;
  description?: string | null | undefined;
}

export type FlavorListOptions = Parameters<Store['listFlavors']>[0];

export class FlavorService {
  constructor(private readonly store: Store) {}

  async get(id: string): Promise<Flavor> {
    const f = await this.store.getFlavor(id);
    if (!f) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  }

  /** a list's marker must name an existing flavor */
  async checkMarker(marker: string | undefined): Promise<void> {
    if (marker !== undefined && !(await this.store.getFlavor(marker))) throw markerNotFound(marker);
  }

  async list(opts: FlavorListOptions): Promise<Flavor[]> {
    if (opts.sortKey !== undefined && !FLAVOR_SORT_COLUMNS.has(opts.sortKey)) throw badRequest(`Invalid input for query parameters sort_key. Value: ${opts.sortKey}.`);
    return this.store.listFlavors(opts);
  }

  async create(f: FlavorInput): Promise<Flavor> {
    if (!NAME_RE.test(f.name)) throw badRequest(`Invalid input for field/attribute name. Value: ${f.name}. '${f.name}' does not match '^(?! )[\\S ]*(?<! )$'`);
    const id = f.id ?? randomUUID();
    if (await this.store.getFlavor(id)) throw conflict(`Flavor with ID ${id} already exists.`);
    if (await this.store.getFlavorByName(f.name)) throw conflict(`Flavor with name ${f.name} already exists.`);
    const flavor: Flavor = {
      id, name: f.name, ram: Number(f.ram), vcpus: Number(f.vcpus), disk: Number(f.disk),
      ephemeral: Number(f.ephemeral ?? 0), swap: f.swap === '' || f.swap === undefined ? 0 : Number(f.swap),
      rxtxFactor: Number(f.rxtxFactor ?? 1), isPublic: parseIsPublic(f.isPublic, true),
      description: f.description ?? null, disabled: false, extraSpecs: {}, createdAt: new Date().toISOString(),
    };
    if (!Number.isFinite(flavor.rxtxFactor) || flavor.rxtxFactor <= 0) throw badRequest('Invalid input for field/attribute rxtx_factor.');
    await this.store.createFlavor(flavor);
    return flavor;
  }

  async updateDescription(id: string, description: string | null): Promise<Flavor> {
    await this.get(id);
    await this.store.updateFlavorDescription(id, description);
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteFlavor(id))) throw notFound(`Flavor ${id} could not be found.`);
  }

  async extraSpec(id: string, key: string): Promise<string> {
    const specs = (await this.get(id)).extraSpecs;
    const v = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (v === undefined) throw extraSpecNotFound(id, key);
    return v;
  }

  /** adds or replaces the given keys */
  async setExtraSpecs(id: string, specs: Record<string, string>): Promise<void> {
    await this.get(id);
    await this.store.setFlavorExtraSpecs(id, specs);
  }

  async deleteExtraSpec(id: string, key: string): Promise<void> {
    await this.get(id);
    if (!(await this.store.deleteFlavorExtraSpec(id, key))) throw extraSpecNotFound(id, key);
  }
}

const extraSpecNotFound = (id: string, key: string) => notFound(`Flavor ${id} has no extra specs with key ${key}.`);

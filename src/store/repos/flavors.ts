/** Flavors and their extra specs. */
import type { Flavor } from '../types.js';

export interface FlavorRepo {
  createFlavor(f: Flavor): Promise<void>;
  getFlavor(id: string): Promise<Flavor | null>;
  getFlavorByName(name: string): Promise<Flavor | null>;
  listFlavors(opts: { includePrivate: boolean; minRam?: number; minDisk?: number; sortKey?: string; sortDir?: 'asc' | 'desc'; limit?: number; marker?: string }): Promise<Flavor[]>;
  deleteFlavor(id: string): Promise<boolean>;
  setFlavorExtraSpecs(id: string, specs: Record<string, string>): Promise<void>;
  deleteFlavorExtraSpec(id: string, key: string): Promise<boolean>;
  updateFlavorDescription(id: string, description: string | null): Promise<void>;
}

/** Default flavors for a fresh all-in-one (`novalet up`); idempotent. Sizes suit the tiny test guest. */
import type { Store } from '../../store/index.js';

export const DEFAULT_FLAVORS = [
  { id: '1', name: 'm1.tiny', vcpus: 1, ram: 128, disk: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ram: 256, disk: 2 },
  { id: '3', name: 'm1.medium', vcpus: 2, ram: 512, disk: 4 },
  { id: '4', name: 'm1.large', vcpus: 2, ram: 1024, disk: 8 },
];

export async function seedFlavors(store: Store): Promise<void> {
  for (const f of DEFAULT_FLAVORS) {
    if (await store.getFlavor(f.id)) continue;
    await store.createFlavor({ ...f, ephemeral: 0, swap: 0, rxtxFactor: 1, isPublic: true, description: null, disabled: false, extraSpecs: {}, createdAt: new Date().toISOString() });
  }
}

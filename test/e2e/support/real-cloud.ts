/**
 * The real all-in-one for the end-to-end tests (NOVALET_E2E_CLOUD=real): to be provided once `novalet up` lands —
 * start `novalet up --data-dir <tmp> --port <free port>`, wait until it is ready, and return its DIR/clouds.yaml
 * (clouds `novalet` and `novalet-admin`), the image `novalet-guest`, the network `private`, softDelete = whether
 * it runs with a reclaim interval, and a close() that stops it and removes the data dir.
 */
import type { Cloud } from './cloud.js';

export async function startRealCloud(): Promise<Cloud> {
  throw new Error('NOVALET_E2E_CLOUD=real is not wired yet (needs `novalet up`); run with the default fake cloud');
}

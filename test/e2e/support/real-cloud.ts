/**
 * The real all-in-one for the end-to-end tests (NOVALET_E2E_CLOUD=real): `novalet up` on a temporary data dir,
 * free ports and its own libvirt NAT network (test/support/all-in-one.ts), real QEMU guests of the test guest
 * image. `novalet up` runs without a reclaim interval, so DELETE deletes (softDelete false).
 */
import { AllInOne } from '../../support/all-in-one.js';
import { GUEST_IMAGE_NAME } from '../../../src/cli/up/guest-images.js';
import type { Cloud } from './cloud.js';

export async function startRealCloud(): Promise<Cloud> {
  const aio = new AllInOne({ name: 'novalet-e2e-real', cidr: '10.0.10.0/24' });
  await aio.start();
  return {
    kind: 'real', cloudsYaml: aio.cloudsYaml, image: GUEST_IMAGE_NAME, network: 'private', softDelete: false,
    close: () => aio.cleanup(),
  };
}

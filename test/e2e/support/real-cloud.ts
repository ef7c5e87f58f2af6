/**
 * The real all-in-one for the end-to-end tests (NOVALET_E2E_CLOUD=real): `novalet up` on a temporary data dir,
 * free ports and its own libvirt NAT network (test/support/all-in-one.ts), real QEMU guests of the test guest
 * image, with a reclaim interval so that the recycle-bin tests run (softDelete).
 */
import { AllInOne } from '../../support/all-in-one.js';
import { GUEST_IMAGE_NAME } from '../../../src/cli/up/guest-images.js';
import type { Cloud } from './cloud.js';

export async function startRealCloud(): Promise<Cloud> {
  const aio = new AllInOne({ name: 'novalet-e2e-real', cidr: '10.0.10.0/24' }, 3600);
  await aio.start();
  return {
    kind: 'real', cloudsYaml: aio.cloudsYaml, image: GUEST_IMAGE_NAME, network: 'private', softDelete: true,
    close: () => aio.cleanup(),
  };
}

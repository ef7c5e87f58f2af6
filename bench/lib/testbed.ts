/** A `novalet testbed` seen by a bench: its status, the admin's API session, and what a test guest is made from. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testbedStatus, type TestbedStatus } from '../../src/cli/testbed/cluster.js';
import { GUEST_IMAGE_NAME } from '../../src/cli/up/guest-images.js';
import { login } from './cluster.js';
import { Api } from './http.js';

export interface TestbedSession {
  status: TestbedStatus;
  /** logged in as admin (close it when done) */
  admin: Api;
  /** the network `private`, the image novalet-guest and the flavor m1.tiny: ids for POST /servers */
  guest: { networkId: string; imageId: string; flavorId: string };
}

export async function testbedSession(dir: string): Promise<TestbedSession> {
  const status = await testbedStatus(dir);
  if (!status.apiUrl) throw new Error('testbed without an API');
  const admin = new Api(status.apiUrl);
  try {
    admin.token = (await login(admin, 'admin', readFileSync(join(dir, 'controller', 'admin-password'), 'utf8').trim(), 'admin')).token;
    const net = (await admin.expect(200, 'GET', '/network/v2.0/networks?name=private')).body.networks[0];
    const image = (await admin.expect(200, 'GET', `/image/v2/images?name=${GUEST_IMAGE_NAME}`)).body.images[0];
    const flavor = (await admin.expect(200, 'GET', '/compute/v2.1/flavors/detail')).body.flavors.find((f: { name: string }) => f.name === 'm1.tiny');
    return { status, admin, guest: { networkId: net.id, imageId: image.id, flavorId: flavor.id } };
  } catch (err) {
    admin.close();
    throw err;
  }
}

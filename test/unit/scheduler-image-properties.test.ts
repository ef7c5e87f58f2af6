/**
 * The ImagePropertiesFilter as Nova: the image's hw_architecture / img_hv_type / hw_vm_mode (and the old names
 * architecture / hypervisor_type / vm_mode) and img_hv_requested_version against what each host's agent reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';
import { hostTakesImage, imageRequirements, supportedInstances, versionSatisfies } from '../../src/controller/scheduler/image-properties.js';

const C = '/compute/v2.1';

test('image requirements: new and old property names, canonical names, version predicates', () => {
  assert.deepEqual(imageRequirements({ hw_architecture: 'AArch64', img_hv_type: 'KVM', hw_vm_mode: 'hvm' }), { arch: 'aarch64', hvType: 'kvm', vmMode: 'hvm' });
  assert.deepEqual(imageRequirements({ architecture: 'amd64', hypervisor_type: 'qemu', vm_mode: 'hv' }), { arch: 'x86_64', hvType: 'qemu', vmMode: 'hvm' });
  assert.deepEqual(imageRequirements({ os_distro: 'cirros' }), {});
  assert.equal(versionSatisfies('7.2.0', '>=6.0'), true);
  assert.equal(versionSatisfies('7.2.0', '>=6.0, <7.1'), false);
  assert.equal(versionSatisfies('7.2.0', '==7.2'), true);
  assert.equal(versionSatisfies('7.2.0', 'garbage'), false);
  const kvm = supportedInstances('x86_64', 'kvm');
  assert.equal(hostTakesImage(kvm, 7002000, {}), true, 'an image that names nothing goes anywhere');
  assert.equal(hostTakesImage(undefined, 7002000, { arch: 'x86_64' }), false, 'a host that reports nothing takes no image that names something');
  assert.equal(hostTakesImage(kvm, 7002000, { arch: 'x86_64', hvType: 'qemu' }), true);
  assert.equal(hostTakesImage(supportedInstances('x86_64', 'qemu'), 7002000, { hvType: 'kvm' }), false);
  assert.equal(hostTakesImage(kvm, 7002000, { arch: 'x86_64', hvVersion: '>=8.0' }), false);
  assert.equal(hostTakesImage(kvm, 7002000, { arch: 'x86_64', hvVersion: '>=7.0' }), true);
});

async function imageWith(h: Harness, properties: Record<string, string>): Promise<string> {
  const base = (await h.store.getImage(IMAGE_ID))!;
  const id = randomUUID();
  await h.store.createImage({ ...base, id, name: `img-${id.slice(0, 6)}`, properties });
  return id;
}

async function bootFrom(h: Harness, image: string, name: string, extra: Record<string, unknown> = {}, version?: string): Promise<{ status: string; host: string | null; fault?: { message: string } }> {
  const r = await h.req(extra['availability_zone'] || extra['host'] ? h.tokens.admin : h.tokens.demo, 'POST', `${C}/servers`, { server: { name, imageRef: image, flavorRef: '1', ...extra } }, version);
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  const s = (await h.req(h.tokens.admin, 'GET', `${C}/servers/${r.json().server.id}`)).json().server;
  return { status: s.status, host: s['OS-EXT-SRV-ATTR:host'], ...(s.fault ? { fault: s.fault } : {}) };
}

test('placement: an aarch64 image on x86_64 hosts ends ERROR "No valid host was found."; a matching one is placed, on the host that has what it asks', async () => {
  const h = await createHarness();
  try {
    const hosts = h.app.novalet.compute.hosts;
    await hosts.heartbeat('fake-host', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.1', arch: 'x86_64', domainType: 'qemu', hypervisorVersion: 7002000 });
    await hosts.heartbeat('host-kvm', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.2', arch: 'x86_64', domainType: 'kvm', hypervisorVersion: 7002000 });
    await h.app.novalet.compute.placement.refresh();

    const arm = await bootFrom(h, await imageWith(h, { hw_architecture: 'aarch64' }), 'arm');
    assert.equal(arm.status, 'ERROR');
    assert.match(arm.fault!.message, /^No valid host was found\./);
    assert.equal(arm.host, null);

    const x86 = await bootFrom(h, await imageWith(h, { hw_architecture: 'x86_64', hw_vm_mode: 'hvm' }), 'x86');
    assert.equal(x86.status, 'ACTIVE');
    const old = await bootFrom(h, await imageWith(h, { architecture: 'amd64' }), 'old-names');
    assert.equal(old.status, 'ACTIVE');
    for (const n of ['kvm1', 'kvm2', 'kvm3']) {
      const kvm = await bootFrom(h, await imageWith(h, { img_hv_type: 'kvm' }), n);
      assert.equal(kvm.status, 'ACTIVE');
      assert.equal(kvm.host, 'host-kvm', 'only the KVM host runs kvm guests');
    }
    const tooNew = await bootFrom(h, await imageWith(h, { hw_architecture: 'x86_64', img_hv_requested_version: '>=99.0' }), 'too-new');
    assert.equal(tooNew.status, 'ERROR');

    // as Nova: a host requested with 2.74's `host` is filtered like any other; one forced with `az:host` is not
    const kvmImage = await imageWith(h, { img_hv_type: 'kvm' });
    const requested = await bootFrom(h, kvmImage, 'requested', { host: 'fake-host', networks: 'auto' }, '2.74');
    assert.equal(requested.status, 'ERROR');
    assert.match(requested.fault!.message, /^No valid host was found\./);
    const forced = await bootFrom(h, kvmImage, 'forced', { availability_zone: 'nova:fake-host' });
    assert.equal(forced.status, 'ACTIVE');
    assert.equal(forced.host, 'fake-host');
  } finally { await h.close(); }
});

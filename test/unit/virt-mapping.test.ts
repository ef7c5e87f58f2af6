// Small pure mappings of the virt layer: libvirt state/event -> Nova power state, domain type detection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { detectDomainType } from '../../src/virt/domain-type.js';
import { isActiveState, powerStateOf, powerStateOfEvent } from '../../src/virt/power-state.js';
import { toVirtError, VirtError } from '../../src/virt/errors.js';
import { LibvirtError } from '../../src/virt/libvirt/index.js';

const caps = (domains: string[]): string => `<capabilities><host><uuid>x</uuid></host><guest><os_type>hvm</os_type>
  <arch name='x86_64'><wordsize>64</wordsize>${domains.map((d) => `<domain type='${d}'/>`).join('')}</arch></guest></capabilities>`;

describe('virt mappings', () => {
  test('libvirt state -> power state (Nova: SHUTOFF is shutdown, blocked is running)', () => {
    assert.deepEqual(['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended', 'weird'].map(powerStateOf),
      ['nostate', 'running', 'running', 'paused', 'shutdown', 'shutdown', 'crashed', 'suspended', 'nostate']);
    assert.deepEqual(['running', 'paused', 'shutoff', 'crashed'].map(isActiveState), [true, true, false, false]);
  });

  test('lifecycle event -> power state', () => {
    assert.equal(powerStateOfEvent('started', 'booted'), 'running');
    assert.equal(powerStateOfEvent('resumed', 'unpaused'), 'running');
    assert.equal(powerStateOfEvent('suspended', 'paused'), 'paused');
    assert.equal(powerStateOfEvent('stopped', 'crashed'), 'shutdown');
    assert.equal(powerStateOfEvent('crashed', 'panicked'), 'crashed');
    assert.equal(powerStateOfEvent('pmsuspended', 'memory'), 'suspended');
    assert.equal(powerStateOfEvent('defined', 'added'), undefined);
  });

  test('domain type: kvm only when libvirt lists it and the CPU has vmx/svm; env overrides', () => {
    const env = {};
    assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags\t\t: fpu vmx sse', env), 'kvm');
    assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags\t\t: fpu svm', env), 'kvm');
    assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags\t\t: fpu sse', env), 'qemu');
    assert.equal(detectDomainType(caps(['qemu']), 'flags\t\t: vmx', env), 'qemu');
    assert.equal(detectDomainType(caps(['qemu']), 'flags: vmx', { NOVALET_DOMAIN_TYPE: 'kvm' }), 'kvm');
    assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags: vmx', { NOVALET_DOMAIN_TYPE: 'qemu' }), 'qemu');
  });

  test('libvirt errors -> VirtError codes; a lost connection wins', () => {
    const le = (code: number): LibvirtError => new LibvirtError('m', code, 10);
    assert.equal(toVirtError(le(42), 'x').code, 'domain_not_found');          // VIR_ERR_NO_DOMAIN
    assert.equal(toVirtError(le(55), 'x').code, 'invalid_state');             // VIR_ERR_OPERATION_INVALID
    assert.equal(toVirtError(le(6), 'x').code, 'hypervisor_unavailable');     // VIR_ERR_INVALID_CONN
    assert.equal(toVirtError(le(1), 'x').code, 'operation_failed');           // VIR_ERR_INTERNAL_ERROR
    assert.equal(toVirtError(le(1), 'x', true).code, 'hypervisor_unavailable');
    const e = toVirtError(le(42), 'start vm');
    assert.equal(e.libvirtCode, 'VIR_ERR_NO_DOMAIN');
    assert.ok(e.cause instanceof LibvirtError);
    assert.match(e.message, /^start vm: m/);
    const v = new VirtError('timeout', 't');
    assert.equal(toVirtError(v, 'x'), v);
  });
});

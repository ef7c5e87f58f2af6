import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../src/controller/scheduler/scheduler.js';
import { PACK, SPREAD } from '../../src/controller/scheduler/weighers.js';
import { signedImageUrl, verifyImageSignature } from '../../src/controller/agents/image-export.js';
import { type Host, type FlavorSnapshot } from '../../src/store/index.js';
import { ApiError } from '../../src/controller/errors.js';

const host = (name: string, o: Partial<Host> = {}): Host => ({
  name, serviceId: `s-${name}`, hypervisorId: `h-${name}`, disabled: false, disabledReason: null, forcedDown: false,
  lastSeenAt: new Date().toISOString(), vcpus: 4, memoryMb: 4096, diskGb: 100, hypervisorType: 'QEMU', hypervisorVersion: 0,
  hostIp: '', createdAt: '', updatedAt: '', ...o,
});
const flavor = (ram: number, vcpus = 1, disk = 1): FlavorSnapshot => ({ id: 'f', name: 'f', ram, vcpus, disk, ephemeral: 0, swap: 0, extraSpecs: {} });

const RAM_ONLY = { ram: 1, cpu: 0, disk: 0 };

test('scheduler (RAM weigher alone): most free RAM wins; claims count before the store does; full hosts, disabled and down hosts are skipped', () => {
  const s = new Scheduler({ cpuAllocationRatio: 1, ramAllocationRatio: 1, diskAllocationRatio: 1, reservedHostMemoryMb: 512, weighers: RAM_ONLY });
  s.refresh([host('a'), host('b', { memoryMb: 8192 }), host('off', { disabled: true, memoryMb: 65536 }), host('down', { memoryMb: 65536 })],
    new Map([['a', { instances: 1, vcpus: 1, memoryMb: 1024, diskGb: 1 }]]), (h) => h.name !== 'down');
  assert.equal(s.select(flavor(2048)), 'b'); // b: 7680 free vs a: 2560
  assert.equal(s.select(flavor(2048)), 'b'); // b: 5632 free
  assert.equal(s.select(flavor(2048)), 'b'); // b: 3584 free vs a 2560
  assert.equal(s.select(flavor(2048)), 'a'); // a: 2560 vs b: 1536
  // 4 vCPUs per host at ratio 1: b has 3 claimed, a 2 (1 stored + 1 claim)
  assert.equal(s.select(flavor(256, 1)), 'b');
  assert.throws(() => s.select(flavor(256, 3)), (e: unknown) => e instanceof ApiError && /No valid host was found/.test(e.message));
  assert.throws(() => s.select(flavor(128), { forcedHost: 'nope' }), /Compute host nope could not be found/);
  assert.throws(() => s.select(flavor(128), { forcedHost: 'off' }), /No valid host/);
  s.release('b', flavor(256, 1));
  assert.equal(s.select(flavor(256, 1), { forcedHost: 'b' }), 'b');
});

test('scheduler: RAM, vCPU and disk weighers together spread by default, pack with negative multipliers', () => {
  const cfg = { cpuAllocationRatio: 1, ramAllocationRatio: 1, diskAllocationRatio: 1, reservedHostMemoryMb: 0 };
  // same RAM everywhere: the vCPU and disk weighers decide
  const hosts = [host('small', { vcpus: 2, diskGb: 20 }), host('big', { vcpus: 16, diskGb: 200 }), host('mid', { vcpus: 8, diskGb: 100 })];
  const spread = new Scheduler({ ...cfg, weighers: SPREAD });
  spread.refresh(hosts, new Map(), () => true);
  assert.equal(spread.select(flavor(512, 1, 10)), 'big');
  const pack = new Scheduler({ ...cfg, weighers: PACK });
  pack.refresh(hosts, new Map(), () => true);
  assert.equal(pack.select(flavor(512, 1, 10)), 'small', 'the fullest host that still fits');
  assert.equal(pack.select(flavor(512, 1, 10)), 'small');
  assert.equal(pack.select(flavor(512, 1, 10)), 'mid', 'small has no vCPU left');
  // 6 equal servers on 2 equal hosts, spread: 3 each
  const two = new Scheduler({ ...cfg, weighers: SPREAD });
  two.refresh([host('h0'), host('h1')], new Map(), () => true);
  const placed = Array.from({ length: 6 }, () => two.select(flavor(512)));
  assert.deepEqual([placed.filter((h) => h === 'h0').length, placed.filter((h) => h === 'h1').length], [3, 3]);
  // a soft group preference comes first: among hosts it ranks equal, the weighers decide
  const soft = new Scheduler({ ...cfg, weighers: SPREAD });
  soft.refresh([host('a', { memoryMb: 4096 }), host('b', { memoryMb: 8192, vcpus: 8 }), host('c', { memoryMb: 6144 })], new Map(), () => true);
  assert.equal(soft.select(flavor(512), { prefer: (h) => (h === 'b' ? -1 : 0) }), 'c', 'b has members of the group; c has more room than a');
});

test('scheduler: a deleted server frees its host at once, before the next refresh', () => {
  const s = new Scheduler({ cpuAllocationRatio: 1, ramAllocationRatio: 1, diskAllocationRatio: 1, reservedHostMemoryMb: 0, weighers: SPREAD });
  s.refresh([host('a', { memoryMb: 2048 })], new Map([['a', { instances: 2, vcpus: 2, memoryMb: 2048, diskGb: 2 }]]), () => true);
  assert.throws(() => s.select(flavor(1024)), /No valid host/);
  s.free('a', flavor(1024));
  assert.equal(s.select(flavor(1024)), 'a');
});

test('image download URLs for agents: valid while unexpired and only for the signed image', () => {
  const url = new URL(signedImageUrl('http://c:8774/', 'secret-secret-secret', 'img-1', 60, 1_000_000));
  const exp = url.searchParams.get('expires')!;
  const sig = url.searchParams.get('sig')!;
  assert.equal(url.pathname, '/internal/images/img-1');
  assert.ok(verifyImageSignature('secret-secret-secret', 'img-1', exp, sig, 1_000_000));
  assert.ok(!verifyImageSignature('secret-secret-secret', 'img-2', exp, sig, 1_000_000), 'another image');
  assert.ok(!verifyImageSignature('other-secret-other', 'img-1', exp, sig, 1_000_000), 'another secret');
  assert.ok(!verifyImageSignature('secret-secret-secret', 'img-1', exp, sig, 1_000_000 + 61_000), 'expired');
  assert.ok(!verifyImageSignature('secret-secret-secret', 'img-1', String(Number(exp) + 1000), sig, 1_000_000), 'expiry changed');
});

/**
 * Fault suite, short variant on real QEMU (issue 17; invariants in test/support/fault-runner.ts): `novalet up`
 * (controller + agent in one process, libvirtd + QEMU underneath) killed with SIGKILL at random points during 30
 * mixed operations on real test guests, and restarted on the same data dir. Guests keep running under libvirtd
 * meanwhile; afterwards what libvirt runs must match the API exactly.
 */
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { AllInOne } from '../support/all-in-one.js';
import { runFaultSuite } from '../support/fault-runner.js';
import { isRoot, ensureGuestBuilt } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';

const skip = isRoot() ? false : 'needs root (real libvirtd + QEMU)';

describe('fault suite on real QEMU: kill -9 of novalet up during mixed operations', { skip }, () => {
  const aio = new AllInOne({ name: 'novalet-fault', cidr: '10.0.11.0/24' });
  let imageRef = '';
  let host = '';

  before(async () => {
    await ensureGuestBuilt();
    await aio.start();
    const images = await aio.openstack<Array<{ ID: string; Name: string }>>(['image', 'list']);
    imageRef = images.find((i) => i.Name === 'novalet-guest')!.ID;
    host = (await aio.openstack<Array<{ Host: string }>>(['compute', 'service', 'list'], 'novalet-admin'))[0]!.Host;
  });
  after(async () => { await aio.cleanup(); });

  it('no server lost, no guest without a server, none twice, no stuck task, truthful state', async () => {
    await runFaultSuite({
      url: () => aio.url, adminPassword: readFileSync(join(aio.dataDir, 'admin-password'), 'utf8').trim(),
      dbPath: join(aio.dataDir, 'controller', 'controller.db'), imageRef, flavors: ['1'], resizeFlavors: [], maxLive: 5,
      kills: [{ name: 'novalet up', weight: 1, run: async (pause) => { await aio.kill(); await sleep(pause); await aio.start(); } }],
      runningGuests: async () => {
        // the domains of this data dir that libvirt runs (the agent names them after the server's uuid)
        const running = new Map<string, string[]>();
        const uuids = (await execa('virsh', ['list', '--uuid', '--state-running', '--state-paused'])).stdout.split('\n').map((x) => x.trim()).filter(Boolean);
        for (const uuid of uuids) {
          const xml = (await execa('virsh', ['dumpxml', uuid], { reject: false })).stdout;
          if (!xml.includes(aio.dataDir)) continue;
          // the agent names a domain after its server (domainNameFor): novalet-<server uuid>
          const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1] ?? '';
          const serverId = name.startsWith(domainNameFor('')) ? name.slice(domainNameFor('').length) : uuid;
          running.set(serverId, [...(running.get(serverId) ?? []), host]);
        }
        return running;
      },
    }, { ops: 30, workers: 2, killCount: 3, settleTimeoutMs: 240_000 });
  });

});

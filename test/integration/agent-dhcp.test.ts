/**
 * Fixed addresses on real libvirt: a throwaway isolated network (no NAT, its own bridge and dnsmasq), a server
 * spawned through the agent with a NIC on it and a given ip. The guest must get exactly that address by DHCP
 * (not one from the dynamic range), the entry must be in the running network and its definition, a stale
 * entry for the same MAC must give way, and destroy must remove the entry again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleLog } from '../support/guest.js';
import { isRoot, ROOT_URI, virsh } from '../support/virsh.js';
import { randomUUID, suiteAgent } from './agent-process.js';

describe('agent on real libvirt: fixed ip by DHCP host entry', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const uuid = randomUUID();
  const tag = randomBytes(3).toString('hex');
  const net = `nvt-dhcp-${tag}`;
  const subnet = `10.78.${randomInt(100, 250)}`;
  const fixedIp = `${subnet}.42`;
  const mac = `52:54:00:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}`;
  const entries = async (inactive = false) => (await virsh(ROOT_URI, ['net-dumpxml', ...(inactive ? ['--inactive'] : []), net]))
    .split('\n').filter((l) => l.includes('<host ')).map((l) => l.trim());

  const agent = suiteAgent([uuid], {
    async setup(a) {
      const xml = join(a.dir, 'net.xml');
    // isolated: no <forward>, so no NAT and no iptables rules; DHCP hands out .100-.200 dynamically
      writeFileSync(xml, `<network><name>${net}</name><bridge name='nvd${tag}' stp='off'/>
  <ip address='${subnet}.1' netmask='255.255.255.0'><dhcp><range start='${subnet}.100' end='${subnet}.200'/>
    <host mac='${mac}' ip='${subnet}.77'/></dhcp></ip></network>`);
      await virsh(ROOT_URI, ['net-define', xml]);
      await virsh(ROOT_URI, ['net-start', net]);
    },
    async teardown() {
      await virsh(ROOT_URI, ['net-destroy', net]).catch(() => undefined);
      await virsh(ROOT_URI, ['net-undefine', net]).catch(() => undefined);
    },
  });

  it('the guest gets exactly the given ip; the stale entry for its MAC is replaced, live and in the definition', async () => {
    const r = await agent.client.submit('spawn', uuid, {
      spec: agent.guestSpec(uuid, { nics: [{ portId: 'port-1', mac, ip: fixedIp, attachment: { type: 'network', network: net } }] }),
    });
    const op = await agent.waitOp(r.operation);
    assert.equal(op.state, 'succeeded', `${JSON.stringify(op.error)}\n${agent.log.slice(-2000)}`);
    const want = `<host mac='${mac}' ip='${fixedIp}'/>`;
    assert.deepEqual(await entries(), [want]);
    assert.deepEqual(await entries(true), [want]);
    const con = new ConsoleLog(agent.consoleLog(uuid));
    const hb = await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).length > 0, { timeoutMs: 120_000 });
    assert.deepEqual(hb.ips['eth0'], [fixedIp]);
  });

  it('destroy removes the entry from the running network and its definition', async () => {
    const r = await agent.client.submit('destroy', uuid, {});
    const op = await agent.waitOp(r.operation);
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    assert.deepEqual(await entries(), []);
    assert.deepEqual(await entries(true), []);
  });
});

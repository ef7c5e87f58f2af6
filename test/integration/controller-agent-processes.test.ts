/**
 * The production topology on one machine: `novalet agent` and `novalet controller` as separate processes, driven
 * with the openstack client. The controller dies (kill -9) with a stop in flight and finishes it after its restart
 * (the agent kept working and answers the re-drive by request id); the agent dies and its host goes down in
 * os-services while the guest keeps running, then comes back up. Images are uploaded with the client, AMI style.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { domstate, removeLibvirtLeftovers } from '../support/all-in-one.js';
import { freePort } from '../support/ports.js';
import { NovaletProcess } from '../support/novalet-process.js';
import { Clients } from '../support/stock-clients.js';
import { ConsoleLog, guestArtifacts } from '../support/guest.js';
import { ensureGuestBuilt, ensureRootLibvirtd, listDomains } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { DEFAULT_NETWORK } from '../../src/controller/config.js';
import { allInOneNetwork } from '../../src/cli/up-command.js';
import { ensureNatNetwork } from '../../src/cli/up/nat-network.js';
import { cloudsYaml } from '../../src/cli/up/clouds-yaml.js';
import * as qemuImg from '../../src/virt/qemu-img.js';
import { AgentClient } from '../../src/rpc/client.js';
import { agentRequestId } from '../../src/controller/hosts/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'novalet-procs-'));
const net = allInOneNetwork('novalet-procs', '10.0.8.0/24');
const secretFile = join(dir, 'cluster-secret');
const agentData = join(dir, 'agent');
const ctlData = join(dir, 'controller');
let agent: NovaletProcess;
let controller: NovaletProcess;
let demo: Clients;
let admin: Clients;
const openstack = <T = any>(args: string[], as: 'demo' | 'admin' = 'demo'): Promise<T> => (as === 'admin' ? admin : demo).run<T>(...args);
let agentClient: AgentClient;
let authUrl = '';


async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\ncontroller:\n${controller.log.slice(-1500)}\nagent:\n${agent.log.slice(-1500)}`);
    await sleep(500);
  }
}
const status = (name: string, want: string) => demo.waitStatus(name, want, {
  timeoutMs: 90_000, context: () => `controller:\n${controller.log.slice(-1500)}\nagent:\n${agent.log.slice(-1500)}`,
});
const serviceState = async () => (await openstack<Array<{ Binary: string; State: string }>>(['compute', 'service', 'list'], 'admin'))
  .find((s) => s.Binary === 'nova-compute')?.State;

describe('novalet controller + novalet agent as separate processes', { timeout: 600_000 }, () => {
  let vm = '';
  let con: ConsoleLog;
  let boot = '';

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await ensureNatNetwork('qemu:///system', net);
    writeFileSync(secretFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    const [apiPort, agentPort] = [await freePort(), await freePort()];
    agent = new NovaletProcess(['agent', '--data-dir', agentData, '--run-dir', join(dir, 'run'), '--listen', `127.0.0.1:${agentPort}`, '--secret-file', secretFile], '"agent ready"');
    const cfg = join(dir, 'controller.json');
    writeFileSync(cfg, JSON.stringify({
      dataDir: ctlData, listen: `127.0.0.1:${apiPort}`, secretFile, heartbeatIntervalSeconds: 1, serviceDownTimeSeconds: 5, reclaimIntervalSeconds: 3600,
      agents: [{ url: `http://127.0.0.1:${agentPort}`, local: true }],
      networks: [{ ...DEFAULT_NETWORK, cidr: net.cidr, gateway: net.gateway, libvirtNetwork: net.name }],
    }));
    controller = new NovaletProcess(['controller', '--config', cfg], '"controller ready"');
    await agent.start();
    await controller.start();
    agentClient = new AgentClient({ url: `http://127.0.0.1:${agentPort}`, secret: readFileSync(secretFile, 'utf8').trim() });
    const pw = (who: string) => readFileSync(join(ctlData, `${who}-password`), 'utf8').trim();
    authUrl = `http://127.0.0.1:${apiPort}/identity/v3`;
    writeFileSync(join(dir, 'clouds.yaml'), cloudsYaml(authUrl, 'RegionOne', [
      { cloud: 'novalet', username: 'demo', password: pw('demo'), project: 'demo' },
      { cloud: 'admin', username: 'admin', password: pw('admin'), project: 'admin' },
    ]));
    demo = new Clients({ cloudsYaml: join(dir, 'clouds.yaml') }, 'novalet');
    admin = demo.as('admin');
  });

  after(async () => {
    await controller?.stop();
    await agent?.stop();
    await removeLibvirtLeftovers(dir, net.name);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an operator uploads an AMI-style image with the client; a server boots from it', async () => {
    const g = guestArtifacts();
    const k = await openstack<{ id: string }>(['image', 'create', '--disk-format', 'aki', '--container-format', 'aki', '--file', g.kernel, '--public', 'k'], 'admin');
    const r = await openstack<{ id: string }>(['image', 'create', '--disk-format', 'ari', '--container-format', 'ari', '--file', g.initrd, '--public', 'r'], 'admin');
    const root = join(dir, 'root.qcow2');
    await qemuImg.create(root, { format: 'qcow2', sizeBytes: 64 * 1024 * 1024 });
    await openstack(['image', 'create', '--disk-format', 'qcow2', '--container-format', 'bare', '--file', root, '--public',
      '--property', `kernel_id=${k.id}`, '--property', `ramdisk_id=${r.id}`, '--property', `os_command_line=${g.cmdline}`, 'guest'], 'admin');
    const s = await openstack<{ id: string; status: string }>(['server', 'create', '--image', 'guest', '--flavor', 'm1.tiny', '--network', 'private', '--wait', 'vm']);
    assert.equal(s.status, 'ACTIVE');
    vm = s.id;
    con = new ConsoleLog(join(agentData, 'instances', vm, 'console.log'));
    await con.waitForReady({ timeoutMs: 90_000 });
    assert.equal(await serviceState(), 'up');
  });

  it('controller kill -9 with a stop in flight: the agent finishes it, the restarted controller re-drives and records SHUTOFF', async () => {
    await openstack(['server', 'stop', 'vm']);
    await controller.kill();
    await waitFor('the guest to power off while the controller is down', async () => (await domstate(vm)) === 'shut off');
    await controller.start();
    await status('vm', 'SHUTOFF');
    const events = await openstack<Array<{ Action: string; 'Request ID': string }>>(['server', 'event', 'list', 'vm']);
    const stops = events.filter((e) => e.Action === 'stop');
    assert.equal(stops.length, 1, 'one stop action, finished by the re-drive');
    const op = await agentClient.getOperationByRequestId(agentRequestId(stops[0]!['Request ID'], vm));
    assert.equal(op.kind, 'stop');
    assert.equal(op.state, 'succeeded', 'the agent ran the stop once, under the API request id');
    const mark = await con.mark();
    await openstack(['server', 'start', 'vm']);
    await status('vm', 'ACTIVE');
    boot = (await con.waitForReady({ timeoutMs: 90_000, since: mark })).boot;
  });

  it('agent kill -9: the host goes down in os-services, the guest keeps running; the agent returns and the host is up again', async () => {
    await agent.kill();
    await waitFor('compute service down', async () => (await serviceState()) === 'down', 30_000);
    assert.equal(await domstate(vm), 'running', 'the guest does not depend on the agent');
    await agent.start();
    await waitFor('compute service up', async () => (await serviceState()) === 'up', 30_000);
    const mark = await con.mark();
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot, 'same boot: nothing restarted the guest');
  });

  it('recycle bin: delete -> SOFT_DELETED with the guest off; restore boots it; force-delete removes it for good', async () => {
    await openstack(['server', 'delete', 'vm']);
    await status('vm', 'SOFT_DELETED');
    assert.equal(await domstate(vm), 'shut off');
    const listed = await openstack<Array<{ Name: string; Status: string }>>(['server', 'list']);
    assert.deepEqual(listed.map((x) => [x.Name, x.Status]), [['vm', 'SOFT_DELETED']], 'listed in the recycle bin, as Nova does');
    const mark = await con.mark();
    await openstack(['server', 'restore', 'vm']);
    await status('vm', 'ACTIVE');
    await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    await openstack(['server', 'delete', 'vm']);
    await status('vm', 'SOFT_DELETED');
    await demo.nova('force-delete', vm);
    await waitFor('the server to be gone', async () => (await demo.osFails('server', 'show', vm)).code !== 0);
    await waitFor('the domain to be gone', async () => !(await listDomains('qemu:///system')).includes(domainNameFor(vm)));
  });
});

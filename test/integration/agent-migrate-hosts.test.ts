/**
 * Cold migration between two real hosts, agents' side: two agent processes, each on its own libvirtd of the
 * testbed (separate network + mount namespaces), the test guest on real QEMU. The source's guest is stopped, a
 * pattern is written into its root disk (as if the guest had written a file), the target's agent pulls the files
 * over the RPC (migrate_receive), rebases the overlay on its own cached base, grows it, defines the new flavor and
 * boots it; the pattern is on the target's disk. Revert: the target's copy destroyed, the source's guest boots
 * again from its untouched disk. The controller's side is test/unit/compute-migration.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { ConsoleLog } from '../support/guest.js';
import { createTestbed, type Testbed } from '../support/testbed.js';
import { ensureGuestBuilt, isRoot, virsh } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import * as qemuImg from '../../src/virt/qemu-img.js';
import { AgentProcess, randomUUID } from './agent-process.js';

describe('cold migration between two testbed hosts (agents on real QEMU)', { skip: !isRoot() && 'needs root (namespaces, libvirtd, QEMU)' }, () => {
  let tb: Testbed | undefined;
  let src: AgentProcess;
  let dst: AgentProcess;
  const uuid = randomUUID();

  const run = async (a: AgentProcess, kind: string, params: unknown = {}) => {
    const r = await a.client.submit(kind as never, uuid, params as never);
    const op = await a.waitOp(r.operation, 180_000);
    assert.equal(op.state, 'succeeded', `${kind}: ${JSON.stringify(op.error)}\n${a.log.slice(-2000)}`);
    return op;
  };
  const root = (a: AgentProcess) => join(a.dataDir, 'instances', uuid, 'disk');
  const qemuIo = (path: string, cmd: string) => execa('qemu-io', ['-r', '-U', '-f', 'qcow2', '-c', cmd, path], { reject: false });

  before(async () => {
    await ensureGuestBuilt();
    tb = await createTestbed({ hosts: 2 });
    src = new AgentProcess({ libvirtUri: tb.hosts[0]!.uri });
    dst = new AgentProcess({ libvirtUri: tb.hosts[1]!.uri });
    // one cluster secret for both agents (the target authenticates to the source with it)
    (dst as { secret: string }).secret = src.secret;
    await execa('cp', [join(src.dir, 'secret'), join(dst.dir, 'secret')]);
    await src.makeImage();
    await dst.makeImage();
    await src.start();
    await dst.start();
  });

  after(async () => {
    await src?.stop();
    await dst?.stop();
    await tb?.destroy();
    src?.cleanup();
    dst?.cleanup();
  });

  it('the target pulls the stopped guest\'s disks, boots it with the new flavor; revert boots the untouched source', async () => {
    const a = tb!.hosts[0]!;
    const b = tb!.hosts[1]!;
    const srcCon = new ConsoleLog(src.consoleLog(uuid));
    await run(src, 'spawn', { spec: src.guestSpec(uuid) });
    const firstBoot = (await srcCon.waitForReady({ timeoutMs: 120_000 })).boot;
    await run(src, 'stop');
    assert.equal((await qemuIo(root(src), 'write -P 0xab 1M 64k')).exitCode, 1, 'qemu-io -r cannot write: sanity');
    const w = await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 1M 64k', root(src)]);
    assert.match(w.stdout, /wrote 65536\/65536 bytes/);

    const spec = dst.guestSpec(uuid, { vcpus: 2, memoryMiB: 192, rootGiB: 1 });
    const op = await run(dst, 'migrate_receive', { spec, sourceUrl: `http://127.0.0.1:${src.port}`, start: true });
    assert.equal((op.result as { power: string }).power, 'running');
    const dstCon = new ConsoleLog(dst.consoleLog(uuid));
    const moved = await dstCon.waitForReady({ timeoutMs: 120_000 });
    assert.notEqual(moved.boot, firstBoot);
    assert.match(await virsh(b.uri, ['dominfo', domainNameFor(uuid)]), /Max memory:\s+196608 KiB/);
    assert.match(await virsh(b.uri, ['dominfo', domainNameFor(uuid)]), /CPU\(s\):\s+2/);
    const info = await qemuImg.info(root(dst), { forceShare: true });
    assert.equal(info.virtualSize, 1024 ** 3, 'grown to the new flavor');
    assert.equal(info.backingFile, join(dst.dataDir, 'images', 'it-image'), 'on the target\'s cached base');
    assert.match((await qemuIo(root(dst), 'read -P 0xab 1M 64k')).stdout, /read 65536\/65536 bytes/, 'what the source\'s disk held');
    // the source still has its stopped copy
    assert.match(await virsh(a.uri, ['domstate', domainNameFor(uuid)]), /shut off/);

    // revert: the target's copy goes, the source's boots from its own disk
    await run(dst, 'destroy');
    assert.doesNotMatch(await virsh(b.uri, ['list', '--all', '--name']), new RegExp(domainNameFor(uuid)));
    const mark = await srcCon.mark();
    await run(src, 'start');
    const back = await srcCon.waitForReady({ since: mark, timeoutMs: 120_000 });
    assert.notEqual(back.boot, moved.boot);
    assert.match((await qemuIo(root(src), 'read -P 0xab 1M 64k')).stdout, /read 65536\/65536 bytes/);
    assert.equal((await qemuImg.info(root(src), { forceShare: true })).virtualSize, 32 * 1024 * 1024, 'the source disk was never grown');
    await run(src, 'destroy');
  });
});

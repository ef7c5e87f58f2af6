/**
 * Volumes on real QEMU: `novalet up` (test/support/all-in-one.ts) with the file backend, and with the rbd backend on a
 * single-node Ceph (scripts/ceph.sh, started for the bench and stopped after) when Ceph is installed. One running
 * test guest; per backend, VOLUMES times: create a 1 GiB volume (POST -> available), attach it to the guest (POST
 * os-volume_attachments -> in-use: the disk is in the running domain), detach (-> available), delete (-> gone).
 * p50 of create and attach per backend is what issue 13 asks for.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { GUEST_IMAGE_NAME } from '../src/cli/up/guest-images.js';
import { rbdClient } from '../src/controller/volumes/backends/rbd.js';
import { AllInOne } from '../test/support/all-in-one.js';
import { ConsoleLog } from '../test/support/guest.js';
import { login } from './lib/cluster.js';
import { Api, until } from './lib/http.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';

const C = '/compute/v2.1';
const VOLUMES = Number(process.env['NOVALET_BENCH_VOLUMES'] ?? 10);
const CEPH_ADDR = '127.0.0.41';

export async function runVolumeBench(o: { quick: boolean }): Promise<ResultRow[]> {
  const haveCeph = (await execa('sh', ['-c', 'command -v ceph-mon && command -v rbd'], { reject: false })).exitCode === 0;
  const work = mkdtempSync(join(tmpdir(), 'novalet-volbench-'));
  const cephDir = join(work, 'ceph');
  let cephStart = 0;
  if (haveCeph) {
    const t0 = performance.now();
    await execa('scripts/ceph.sh', ['start', cephDir, CEPH_ADDR]);
    cephStart = performance.now() - t0;
  }
  const aio = new AllInOne({ name: `nvvol-${process.pid % 10000}`, cidr: '10.0.89.0/24' }, 0,
    haveCeph ? ['--rbd', `volumes:novalet:${join(cephDir, 'ceph.conf')}:${join(cephDir, 'ceph.client.novalet.keyring')}`] : []);
  try {
    await aio.start(180_000);
    const api = new Api(aio.url);
    const pw = (who: string) => readFileSync(join(aio.dataDir, `${who}-password`), 'utf8').trim();
    const admin = await login(api, 'admin', pw('admin'), 'admin');
    const demo = await login(api, 'demo', pw('demo'), 'demo');
    const V = `/volume/v3/${demo.projectId}`;
    const backends = ['file', ...(haveCeph ? ['rbd'] : [])];
    api.token = admin.token;
    const types: Record<string, string> = {};
    for (const b of backends) {
      const r = await api.expect(200, 'POST', `/volume/v3/${admin.projectId}/types`, { volume_type: { name: `bench-${b}`, extra_specs: { volume_backend_name: b } } });
      types[b] = r.body.volume_type.id as string;
    }
    api.token = demo.token;
    const images = (await api.expect(200, 'GET', `/image/v2/images?name=${GUEST_IMAGE_NAME}`)).body.images as Array<{ id: string }>;
    const server = (await api.expect(202, 'POST', `${C}/servers`, { server: { name: 'volbench', imageRef: images[0]!.id, flavorRef: '1' } })).body.server.id as string;
    await until(async () => (await api.expect(200, 'GET', `${C}/servers/${server}`)).body.server.status === 'ACTIVE', 180_000, 50);
    // a disk is released on detach only by a booted guest (it answers the unplug): wait for its kernel
    await new ConsoleLog(aio.consoleLogPath(server)).waitForReady({ timeoutMs: 180_000 });
    const volStatus = async (id: string) => (await api.expect(200, 'GET', `${V}/volumes/${id}`)).body.volume.status as string;
    const rows: ResultRow[] = [];
    for (const b of backends) {
      const create: number[] = [];
      const attach: number[] = [];
      const detach: number[] = [];
      for (let i = 0; i < (o.quick ? 3 : VOLUMES); i++) {
        let t = performance.now();
        const id = (await api.expect(202, 'POST', `${V}/volumes`, { volume: { size: 1, name: `vb-${b}-${i}`, volume_type: types[b] } })).body.volume.id as string;
        await until(async () => (await volStatus(id)) === 'available', 120_000, 10);
        create.push(performance.now() - t);
        t = performance.now();
        await api.expect(200, 'POST', `${C}/servers/${server}/os-volume_attachments`, { volumeAttachment: { volumeId: id } });
        await until(async () => (await volStatus(id)) === 'in-use', 120_000, 10);
        attach.push(performance.now() - t);
        t = performance.now();
        await api.expect(202, 'DELETE', `${C}/servers/${server}/os-volume_attachments/${id}`);
        await until(async () => (await volStatus(id)) === 'available', 120_000, 10);
        detach.push(performance.now() - t);
        await api.expect(202, 'DELETE', `${V}/volumes/${id}`);
        await until(async () => (await api.request('GET', `${V}/volumes/${id}`)).status === 404, 120_000, 10);
      }
      rows.push(
        { name: `${b}: volume create 1 GiB (POST -> available)`, unit: 'ms', summary: summarize(create) },
        { name: `${b}: attach to a running guest (POST -> in-use)`, unit: 'ms', summary: summarize(attach) },
        { name: `${b}: detach (DELETE -> available)`, unit: 'ms', summary: summarize(detach) },
      );
    }
    if (haveCeph) rows.push({ name: 'single-node Ceph: scripts/ceph.sh start -> HEALTH_OK', unit: 'ms', summary: summarize([cephStart]) });
    await api.expect(204, 'DELETE', `${C}/servers/${server}`);
    await until(async () => (await api.request('GET', `${C}/servers/${server}`)).status === 404, 120_000, 50);
    api.close();
    return rows;
  } finally {
    await aio.cleanup().catch(() => undefined);
    if (haveCeph) {
      // the agent keeps the cephx secret defined for later disks: this cluster is going away, so its secret goes too
      const secret = (() => { try { return rbdClient({ pool: 'volumes', user: 'novalet', conf: join(cephDir, 'ceph.conf'), keyring: join(cephDir, 'ceph.client.novalet.keyring') }).secretUuid; } catch { return null; } })();
      if (secret) await execa('virsh', ['secret-undefine', secret], { reject: false });
      await execa('scripts/ceph.sh', ['stop', cephDir], { reject: false });
    }
    rmSync(work, { recursive: true, force: true });
  }
}

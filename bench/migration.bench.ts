/**
 * Live migration through novalet versus plain virsh on the same testbed, in the same run (issue 14's target:
 * novalet within 1.2x): `novalet testbed up --hosts 2` (real libvirtds in namespaces, real QEMU, TCG here), then
 *   - novalet: the 128 MiB test guest (m1.tiny, image novalet-guest) live-migrated back and forth through the API
 *     (os-migrateLive, block_migration auto: the hosts' instance dirs are their own, so the root disk is copied);
 *     time from the POST to the server ACTIVE with its host changed (prepare, migrate, finish: the whole task)
 *   - virsh: a domain of the same guest (kernel, initrd, 128 MiB, a qcow2 overlay in each host's own
 *     /var/lib/libvirt/images) migrated with `virsh migrate --p2p --persistent --undefinesource
 *     --copy-storage-inc`, the flags novalet uses (and `--live` only where novalet's agents migrate TCG guests live:
 *     by default they pause them for the copy); time of the virsh command
 * Runs alternate between the two so that the machine's load falls on both alike. Needs root and the test guest.
 */
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testbedDown, testbedUp } from '../src/cli/testbed/cluster.js';
import { DEFAULT_CONFIG } from '../src/agent/config.js';
import { guestArtifacts } from '../test/support/guest.js';
import { type Api, until } from './lib/http.js';
import { testbedSession } from './lib/testbed.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';

const C = '/compute/v2.1';
const V = { 'x-openstack-nova-api-version': '2.30' };

export interface MigrationBenchOptions { quick: boolean; runs: number }

export async function runMigrationBench(o: MigrationBenchOptions): Promise<ResultRow[]> {
  const parent = mkdtempSync(join(process.env['NOVALET_BENCH_TMP'] ?? tmpdir(), 'novalet-lmbench-'));
  const dir = join(parent, 'tb');
  const runs = Math.max(2, o.quick ? 2 : o.runs);
  const apis: Api[] = [];
  try {
    console.log('migration: novalet testbed up --hosts 2 ...');
    await testbedUp({ hosts: 2, dir, guestDir: '/var/cache/novalet/guest', logLevel: 'info' }, () => undefined);
    const { status: st, admin, guest } = await testbedSession(dir);
    apis.push(admin);
    const [h0, h1] = st.hosts;
    if (!h0 || !h1) throw new Error('testbed without two hosts');

    // novalet's server
    const created = await admin.expect(202, 'POST', `${C}/servers`, { server: { name: 'lm-bench', imageRef: guest.imageId, flavorRef: guest.flavorId, networks: [{ uuid: guest.networkId }] } });
    const id = created.body.server.id as string;
    const show = async () => (await admin.expect(200, 'GET', `${C}/servers/${id}`, undefined, V)).body.server;
    await until(async () => (await show()).status === 'ACTIVE', 300_000, 200);
    // the guest's kernel up (as the virsh guest below is given the same head start)
    await new Promise((r) => setTimeout(r, 15_000));

    // virsh's domain: the same guest, its overlay in each host's own image dir (bind-mounted per host namespace)
    const g = guestArtifacts();
    const base = join(dir, 'shared', 'lm-bench-base.raw');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', base, '1G']);
    const overlay = (h: string) => {
      const d = join(dir, h, 'lib-libvirt', 'images');
      mkdirSync(d, { recursive: true });
      rmSync(join(d, 'lm-bench.qcow2'), { force: true });
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, join(d, 'lm-bench.qcow2')]);
    };
    overlay(h0.name);
    overlay(h1.name);
    const xml = join(parent, 'virsh-guest.xml');
    writeFileSync(xml, `<domain type='qemu'><name>lm-bench-virsh</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>${g.kernel}</kernel><initrd>${g.initrd}</initrd><cmdline>${g.cmdline}</cmdline></os>
<features><acpi/></features><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='/var/lib/libvirt/images/lm-bench.qcow2'/><target dev='vda' bus='virtio'/></disk>
<serial type='pty'><log file='${join(dir, 'shared', 'lm-bench-virsh.log')}' append='on'/><target port='0'/></serial><memballoon model='none'/></devices></domain>`);
    const virsh = (uri: string, ...args: string[]) => execFileSync('virsh', ['-c', uri, ...args], { stdio: 'pipe' });
    virsh(h0.libvirtUri, 'define', xml);
    virsh(h0.libvirtUri, 'start', 'lm-bench-virsh');
    await new Promise((r) => setTimeout(r, 15_000));

    // the same mode as novalet's: its agents copy a TCG guest paused by default (src/agent/README.md), and this one is TCG
    const virshLive = DEFAULT_CONFIG.liveMigrationEmulated === 'live' ? ['--live'] : [];
    const viaNovalet: number[] = [];
    const viaVirsh: number[] = [];
    let virshOn = 0;
    for (let i = 0; i < runs; i++) {
      const from = (await show())['OS-EXT-SRV-ATTR:host'];
      const t0 = performance.now();
      await admin.expect(202, 'POST', `${C}/servers/${id}/action`, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, V);
      await until(async () => {
        const s = await show();
        if (s.status === 'ERROR') throw new Error(`live migration failed: ${JSON.stringify(s.fault)}`);
        return s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null && s['OS-EXT-SRV-ATTR:host'] !== from;
      }, 300_000, 50);
      viaNovalet.push(performance.now() - t0);

      const src = virshOn === 0 ? h0 : h1;
      const dst = virshOn === 0 ? h1 : h0;
      overlay(dst.name); // the destination's overlay, pre-created as novalet's prepare does it
      const t1 = performance.now();
      virsh(src.libvirtUri, 'migrate', ...virshLive, '--p2p', '--persistent', '--undefinesource', '--copy-storage-inc', 'lm-bench-virsh', dst.migrationUri);
      viaVirsh.push(performance.now() - t1);
      virshOn = 1 - virshOn;
    }
    // where novalet's time goes: each agent operation's run time from the hosts' journals (finished - created)
    const ops = new Map<string, number[]>();
    for (const h of [h0, h1]) {
      const db = new Database(join(dir, h.name, 'agent', 'journal.sqlite'), { readonly: true });
      const rows = db.prepare("SELECT kind, created_at, finished_at FROM operations WHERE kind LIKE 'live_migrate%' AND finished_at IS NOT NULL").all() as Array<{ kind: string; created_at: string; finished_at: string }>;
      db.close();
      for (const r of rows) ops.set(r.kind, [...(ops.get(r.kind) ?? []), Date.parse(r.finished_at) - Date.parse(r.created_at)]);
    }
    const n = summarize(viaNovalet);
    const v = summarize(viaVirsh);
    const ratio = n.median / v.median;
    return [
      { name: 'live migration through novalet (API POST -> ACTIVE on the other host)', unit: 'ms', summary: n, notes: '128 MiB test guest, block migration of its root overlay, TCG' },
      { name: ['live migration with plain virsh migrate', ...virshLive, '--p2p --copy-storage-inc'].join(' '), unit: 'ms', summary: v, notes: 'the same guest and flags on the same testbed, alternating runs' },
      ...[...ops].map(([kind, ms]): ResultRow => ({ name: `  of which the agent operation ${kind}`, unit: 'ms', summary: summarize(ms), notes: 'from the hosts\' journals' })),
      { name: 'novalet / virsh (medians)', unit: 'x', summary: { runs: 1, median: ratio, p95: ratio, min: ratio, max: ratio }, target: 'within 1.2x', met: ratio <= 1.2 },
    ];
  } finally {
    for (const a of apis) a.close();
    await testbedDown(dir).catch((err: unknown) => console.error(`migration: testbed down failed: ${(err as Error).message}`));
    rmSync(parent, { recursive: true, force: true });
  }
}

/**
 * libvirt calls per second through the project's binding versus `virsh` for the same call, on the local
 * libvirtd (qemu:///system) against a defined, inactive domain (no guest needs to run).
 * The binding is measured sequentially (one call in flight) and with 32 calls in flight; virsh pays a
 * process start and a new connection per call, which is what a shell-out implementation would pay.
 */
import { execa } from 'execa';
import { DomainUndefineFlags, LibvirtConnection, type LibvirtDomain } from '../src/virt/libvirt/index.js';
import { summarize } from './lib/stats.js';
import type { ResultRow } from './lib/report.js';

const URI = process.env['NOVALET_BENCH_URI'] ?? 'qemu:///system';
const RUNS = Number(process.env['NOVALET_BENCH_RUNS'] ?? 5);
const BINDING_CALLS = 1000;
const VIRSH_CALLS = 20;
const CONCURRENCY = 32;

interface CallCase {
  name: string;
  binding: (conn: LibvirtConnection, dom: LibvirtDomain) => Promise<unknown>;
  virsh: string[];
}

const domName = `novalet-bench-${process.pid}`;
const CASES: CallCase[] = [
  { name: 'domain state', binding: (_c, d) => d.getState(), virsh: ['domstate', domName] },
  { name: 'lookup by name + info', binding: async (c) => (await c.lookupDomainByName(domName)).getInfo(), virsh: ['dominfo', domName] },
  { name: 'domain XML', binding: (_c, d) => d.getXMLDesc(), virsh: ['dumpxml', domName] },
  { name: 'node info', binding: (c) => c.getNodeInfo(), virsh: ['nodeinfo'] },
  { name: 'list all domains', binding: (c) => c.listAllDomains(), virsh: ['list', '--all', '--name'] },
];

async function callsPerSecond(calls: number, concurrency: number, fn: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < calls) await fn();
  }));
  return calls / ((performance.now() - t0) / 1000);
}

const DOMAIN_XML = `<domain type='qemu'><name>${domName}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><memballoon model='none'/></devices></domain>`;

export async function runBindingBench(): Promise<ResultRow[]> {
  const conn = await LibvirtConnection.open(URI);
  const dom = await conn.defineDomain(DOMAIN_XML);
  const rows: ResultRow[] = [];
  try {
    for (const c of CASES) {
      const call = () => c.binding(conn, dom);
      await callsPerSecond(50, 1, call); // warm-up
      const seq: number[] = [];
      const par: number[] = [];
      const sh: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        seq.push(await callsPerSecond(BINDING_CALLS, 1, call));
        par.push(await callsPerSecond(BINDING_CALLS, CONCURRENCY, call));
        sh.push(await callsPerSecond(VIRSH_CALLS, 1, () => execa('virsh', ['-q', '-c', URI, ...c.virsh])));
      }
      const seqS = summarize(seq);
      const parS = summarize(par);
      const shS = summarize(sh);
      rows.push({ name: `${c.name}: binding, 1 in flight`, unit: 'calls/s', summary: seqS,
        notes: `${(seqS.median / shS.median).toFixed(0)}x virsh` });
      rows.push({ name: `${c.name}: binding, ${CONCURRENCY} in flight`, unit: 'calls/s', summary: parS,
        notes: `${(parS.median / shS.median).toFixed(0)}x virsh` });
      rows.push({ name: `${c.name}: virsh ${c.virsh[0]}`, unit: 'calls/s', summary: shS, notes: `${VIRSH_CALLS} calls per run` });
    }
  } finally {
    await dom.undefine(DomainUndefineFlags.MANAGED_SAVE).catch(() => undefined);
    await conn.close();
  }
  return rows;
}

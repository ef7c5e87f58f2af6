/**
 * `novalet hosts`: the operator's view of host failure through the compute API (admin): every host with its
 * state (up / down / forced down), status, last heartbeat and servers, the evacuations of each host with a
 * progress bar (done or fenced out of all), and `evacuate HOST`, nova host-evacuate's loop: every server of the
 * host evacuated, one call each, the results printed. `--watch` redraws every 2 s.
 */
import { parseArgs, str } from './args.js';
import { ComputeClient, credentialsFrom } from './hosts/api-client.js';

export const HOSTS_USAGE = `usage: novalet hosts [list] [--watch] [--json]
       novalet hosts evacuate HOST [--target HOST]
  credentials: --clouds FILE (or OS_CLIENT_CONFIG_FILE) with --os-cloud NAME (default novalet-admin), or OS_AUTH_URL,
               OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (an admin)`;

interface Service { host: string; state: string; status: string; forced_down?: boolean; updated_at: string | null; disabled_reason: string | null }
interface MigrationView { instance_uuid: string; source_compute: string; dest_compute: string | null; status: string; migration_type?: string; updated_at: string }
interface ServerRow { id: string; name: string; status: string; 'OS-EXT-SRV-ATTR:host'?: string | null }

/** evacuation statuses: still running, rebuilt (source not yet fenced), fenced, failed */
const RUNNING = ['accepted', 'pre-migrating'];

export interface HostRow {
  host: string; state: string; status: string; lastHeartbeat: string | null; servers: number;
  evacuations: { running: number; done: number; completed: number; failed: number };
}

export function progressBar(done: number, total: number, width = 20): string {
  if (total === 0) return '';
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

async function rows(c: ComputeClient): Promise<HostRow[]> {
  const [{ services }, { migrations }, { servers }] = await Promise.all([
    c.call<{ services: Service[] }>('GET', '/os-services?binary=nova-compute', undefined, '2.53'),
    c.call<{ migrations: MigrationView[] }>('GET', '/os-migrations?migration_type=evacuation&limit=1000'),
    c.call<{ servers: ServerRow[] }>('GET', '/servers/detail?all_tenants=1&limit=1000'),
  ]);
  return services.map((s) => {
    const mine = migrations.filter((m) => m.source_compute === s.host);
    return {
      host: s.host, state: s.forced_down ? 'down (forced)' : s.state, status: s.status + (s.disabled_reason ? ` (${s.disabled_reason})` : ''),
      lastHeartbeat: s.updated_at, servers: servers.filter((x) => x['OS-EXT-SRV-ATTR:host'] === s.host).length,
      evacuations: {
        running: mine.filter((m) => RUNNING.includes(m.status)).length, done: mine.filter((m) => m.status === 'done').length,
        completed: mine.filter((m) => m.status === 'completed').length, failed: mine.filter((m) => m.status === 'failed' || m.status === 'error').length,
      },
    };
  });
}

export function render(list: HostRow[]): string[] {
  const table = [['HOST', 'STATE', 'STATUS', 'LAST HEARTBEAT', 'SERVERS', 'EVACUATIONS']];
  for (const r of list) {
    const e = r.evacuations;
    const total = e.running + e.done + e.completed + e.failed;
    const ev = total === 0 ? '-' : `${progressBar(e.done + e.completed, total)}${e.running ? ` ${e.running} running` : ''}${e.failed ? ` ${e.failed} failed` : ''}${e.done ? ` ${e.done} awaiting fencing` : ''}`;
    table.push([r.host, r.state, r.status, r.lastHeartbeat ?? 'never', String(r.servers), ev]);
  }
  const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd());
}

export async function hostsCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json', 'watch', 'help']);
  const [cmd = 'list', arg] = positional;
  if (flags['help']) { console.log(HOSTS_USAGE); return 0; }
  let client: ComputeClient;
  try {
    const cloudsFile = str(flags, 'clouds');
    const cloud = str(flags, 'os-cloud');
    client = await ComputeClient.login(credentialsFrom({ env: process.env, ...(cloudsFile ? { cloudsFile } : {}), ...(cloud ? { cloud } : {}) }));
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  if (cmd === 'list') {
    for (;;) {
      const list = await rows(client);
      if (flags['json']) console.log(JSON.stringify(list, null, 2));
      else {
        if (flags['watch']) process.stdout.write('\x1b[2J\x1b[H');
        for (const line of render(list)) console.log(line);
      }
      if (!flags['watch']) return 0;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  if (cmd === 'evacuate') {
    if (!arg) { console.error(HOSTS_USAGE); return 2; }
    const target = str(flags, 'target');
    const { servers } = await client.call<{ servers: ServerRow[] }>('GET', `/servers/detail?all_tenants=1&host=${encodeURIComponent(arg)}&limit=1000`);
    let failed = 0;
    for (const s of servers.filter((x) => x['OS-EXT-SRV-ATTR:host'] === arg)) {
      try {
        await client.call('POST', `/servers/${s.id}/action`, { evacuate: target ? { host: target } : {} });
        console.log(`${s.id}  ${s.name}  evacuation accepted`);
      } catch (err) {
        failed++;
        console.log(`${s.id}  ${s.name}  refused: ${(err as Error).message}`);
      }
    }
    return failed ? 1 : 0;
  }
  console.error(`unknown hosts command ${cmd}\n${HOSTS_USAGE}`);
  return 2;
}

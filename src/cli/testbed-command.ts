import { resolve } from 'node:path';
import { parseArgs, str, type ParsedArgs } from './args.js';
import { checkStoreLocation } from '../store/index.js';
import { DEFAULT_TESTBED_DIR, killHost, restartController, reviveHost, testbedDown, testbedStatus, testbedUp } from './testbed/cluster.js';
import { parseFailpoints } from '../controller/tasks/engine.js';

export const TESTBED_USAGE = `usage: novalet testbed up --hosts N [--data-dir DIR] [--guest-dir DIR] [--log-level LEVEL] [--live-migration-bandwidth MIBS]
                         [--controllers M] [--store postgres|PATH|postgres://...] [--auto-evacuate-delay SEC]
                         [--storage file|ceph]
       novalet testbed status [--data-dir DIR] [--json]
       novalet testbed down [--data-dir DIR]
       novalet testbed kill-host NAME [--data-dir DIR]
       novalet testbed revive-host NAME [--data-dir DIR]
       novalet testbed restart-controller [--kill] [--failpoints SPEC] [--data-dir DIR]
  Several hosts on one machine (root): each host h0..h{N-1} has its own libvirtd in its own network, mount and UTS
  namespaces (10.77.0.x on a private bridge) and its own novalet agent; one controller reaches them all.
  DIR (default ${DEFAULT_TESTBED_DIR}) holds the state, logs (DIR/logs), clouds.yaml (clouds novalet and
  novalet-admin) and the storage every host shares (DIR/shared). down removes every namespace, process, interface,
  loop device and file of the testbed, DIR included (a DIR that existed before up is emptied); a second down does
  nothing. kill-host: power loss (agent, libvirtd and guests SIGKILLed at once); revive-host: libvirtd and agent
  started again on the same host state. --live-migration-bandwidth: live migrations limited to MIBS MiB/s (to watch
  their progress or abort one). --controllers M (1..8): M controllers on one database (the first's SQLite file;
  --store postgres: a PostgreSQL of the testbed's own, data in DIR/postgres, stopped by down; or a postgres:// URL
  this process and the testbed's bridge namespace both reach), APIs on ports 8774.. ; clouds.yaml points at the first.
  restart-controller: the first controller stops (SIGTERM; --kill: SIGKILL, as a crash) and starts again on the same
  config and id (it takes its unfinished tasks back at once); --failpoints: its NOVALET_FAILPOINTS (crash tests:
  <task kind>.<step>:before|after, the task hangs there), none without it.
  --auto-evacuate-delay: automatic evacuation on (controller config "evacuation"), the servers of a host down for SEC
  seconds are evacuated without a call. --storage ceph: a single-node Ceph of the testbed's own (scripts/ceph.sh in the
  bridge namespace, ~20 s, data in DIR/ceph, stopped and removed by down) and volumes of the default type on its rbd
  pool; default file (DIR/shared/volumes).`;

/** `novalet testbed ...` */
export async function testbedCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json', 'kill']);
  const [sub, name] = positional;
  if (flags['help'] || sub === undefined || sub === 'help') { console.log(TESTBED_USAGE); return sub === undefined && !flags['help'] ? 2 : 0; }
  const dir = resolve(str(flags, 'data-dir') ?? DEFAULT_TESTBED_DIR);
  try {
    return await run(sub, name, flags, dir);
  } catch (err) {
    // the operator's to act on (no testbed there, no such host, a daemon that did not start): the message, no stack
    console.error(`novalet testbed ${sub}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function run(sub: string, name: string | undefined, flags: ParsedArgs['flags'], dir: string): Promise<number> {
  const logLevel = str(flags, 'log-level') ?? 'info';
  const say = (line: string) => console.log(line);
  switch (sub) {
    case 'up': {
      const hosts = Number(str(flags, 'hosts') ?? '2');
      if (!Number.isInteger(hosts) || hosts < 1 || hosts > 200) { console.error(`--hosts: expected 1..200, got ${str(flags, 'hosts')}`); return 2; }
      if (process.getuid?.() !== 0) { console.error('novalet testbed needs root (network and mount namespaces)'); return 1; }
      const bw = str(flags, 'live-migration-bandwidth');
      const bandwidth = bw === undefined ? undefined : Number(bw);
      if (bandwidth !== undefined && !(Number.isFinite(bandwidth) && bandwidth > 0)) { console.error(`--live-migration-bandwidth: expected MiB/s > 0, got ${bw}`); return 2; }
      const controllers = Number(str(flags, 'controllers') ?? '1');
      if (!Number.isInteger(controllers) || controllers < 1 || controllers > 8) { console.error(`--controllers: expected 1..8, got ${str(flags, 'controllers')}`); return 2; }
      const store = str(flags, 'store');
      const badStore = store === 'postgres' ? null : store !== undefined ? checkStoreLocation(store) : flags['store'] === true ? 'needs a value' : null;
      if (badStore) { console.error(`--store: ${badStore}`); return 2; }
      const ad = str(flags, 'auto-evacuate-delay');
      const autoDelay = ad === undefined ? undefined : Number(ad);
      if (autoDelay !== undefined && !(Number.isFinite(autoDelay) && autoDelay >= 0)) { console.error(`--auto-evacuate-delay: expected seconds >= 0, got ${ad}`); return 2; }
      const storage = str(flags, 'storage') ?? 'file';
      if (storage !== 'file' && storage !== 'ceph') { console.error(`--storage: expected file or ceph, got ${storage}`); return 2; }
      await testbedUp({
        hosts, dir, guestDir: str(flags, 'guest-dir') ?? (process.env['NOVALET_GUEST_DIR'] || '/var/cache/novalet/guest'), logLevel, controllers, storage, ...(store ? { store } : {}),
        ...(bandwidth ? { liveMigrationBandwidthMiBs: bandwidth } : {}), ...(autoDelay !== undefined ? { autoEvacuateDelaySec: autoDelay } : {}),
      }, say);
      return 0;
    }
    case 'status': {
      const s = await testbedStatus(dir);
      if (flags['json']) { console.log(JSON.stringify(s, null, 2)); return 0; }
      say(`testbed ${s.prefix} in ${s.dir}`);
      say(`  controller ${s.controller ? 'running' : 'DOWN'}  ${s.apiUrl ?? ''}`);
      for (const c of s.extraControllers) say(`  controller ${c.running ? 'running' : 'DOWN'}  ${c.apiUrl}`);
      for (const h of s.hosts) say(`  ${h.name}  ${h.ip}  libvirtd ${h.libvirtd ? 'running' : 'DOWN'}  agent ${h.agent ? 'running' : 'DOWN'}  ${h.migrationUri}  ${h.domains.length} domain(s)`);
      say(`  shared storage ${s.sharedDir}`);
      if (s.ceph) say(`  ceph ${s.ceph.running ? 'running' : 'DOWN'}  ${s.ceph.addr}  pool ${s.ceph.pool}, user client.${s.ceph.user}  --conf ${s.ceph.conf} --keyring ${s.ceph.keyring}`);
      if (s.cloudsYaml) say(`  OS_CLIENT_CONFIG_FILE=${s.cloudsYaml} (clouds novalet, novalet-admin)`);
      return 0;
    }
    case 'down':
      say((await testbedDown(dir)) ? `testbed in ${dir} removed` : `no testbed in ${dir}: nothing to do`);
      return 0;
    case 'kill-host':
      if (!name) { console.error(TESTBED_USAGE); return 2; }
      say(`${name}: killed ${(await killHost(dir, name)).length} process(es)`);
      return 0;
    case 'revive-host':
      if (!name) { console.error(TESTBED_USAGE); return 2; }
      await reviveHost(dir, name, logLevel);
      say(`${name}: libvirtd and agent running`);
      return 0;
    case 'restart-controller': {
      const failpoints = str(flags, 'failpoints');
      if (failpoints !== undefined) parseFailpoints(failpoints); // a bad spec is refused before anything stops
      const r = await restartController(dir, { kill: flags['kill'] === true, ...(failpoints !== undefined ? { failpoints } : {}) });
      say(`controller ${r.killed !== null ? `killed (pid ${r.killed}) and ` : ''}running again${failpoints ? ` with failpoints ${failpoints}` : ''}`);
      return 0;
    }
    default:
      console.error(`unknown testbed command ${sub}\n${TESTBED_USAGE}`);
      return 2;
  }
}

import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { startSimHosts } from '../sim/index.js';
import { parseArgs, str } from './args.js';
import { exitOnSignals } from './shutdown.js';

export const SIM_USAGE = `usage: novalet sim-hosts --count N --base-port P --secret-file FILE [--listen-host ADDR] [--data-dir DIR]
                         [--prefix sim-] [--vcpus 64] [--memory-mib 262144] [--networks private,default] [--log-level warn]
  N simulated hosts in one process: real agents on the fake hypervisor, host i (sim-0001..) answering the agent
  protocol on port P+i-1. Prints one JSON line per host ({name, url, hostUuid}) once all listen.`;

function int(flags: Record<string, string | true>, name: string, dflt?: number): number {
  const v = str(flags, name);
  if (v === undefined) {
    if (dflt === undefined) throw new Error(`--${name} is required\n${SIM_USAGE}`);
    return dflt;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got ${v}`);
  return n;
}

/** `novalet sim-hosts`: keeps running until SIGTERM/SIGINT. */
export async function simCommand(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, ['help']);
  if (flags['help']) { console.log(SIM_USAGE); return; }
  const secretFile = str(flags, 'secret-file');
  if (!secretFile) throw new Error(`--secret-file is required\n${SIM_USAGE}`);
  const secret = readFileSync(secretFile, 'utf8').split('\n')[0]?.trim() ?? '';
  const log = pino({ level: str(flags, 'log-level') ?? 'warn', base: { svc: 'novalet-sim', pid: process.pid } });
  const dataRoot = str(flags, 'data-dir');
  const listenHost = str(flags, 'listen-host');
  const namePrefix = str(flags, 'prefix');
  const networks = str(flags, 'networks')?.split(',').filter(Boolean);
  const sim = await startSimHosts({
    count: int(flags, 'count'), basePort: int(flags, 'base-port'), secret, log,
    hostInfo: { cpus: int(flags, 'vcpus', 64), memoryMiB: int(flags, 'memory-mib', 256 * 1024) },
    ...(dataRoot ? { dataRoot } : {}), ...(listenHost ? { listenHost } : {}), ...(namePrefix ? { namePrefix } : {}),
    ...(networks ? { networks } : {}),
  });
  for (const h of sim.hosts) console.log(JSON.stringify({ name: h.name, url: h.url, hostUuid: h.hostUuid, ctl: h.ctlSocket }));
  log.info({ hosts: sim.hosts.length, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }, 'simulated hosts ready');
  exitOnSignals(log, 'simulated hosts', () => sim.close());
}

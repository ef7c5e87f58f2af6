import { DEFAULT_CONFIG, loadConfig } from '../agent/config.js';
import { ctlEvents, ctlRequest, CtlError } from '../agent/ctl/client.js';
import { CTL_COMMANDS, type CtlCommand } from '../agent/ctl/commands.js';
import { ctlSocketPath } from '../agent/ctl/server.js';
import type { AgentEvent } from '../rpc/protocol/inventory.js';
import type { ListServersResponse } from '../rpc/protocol/servers.js';
import { parseArgs, str } from './args.js';

export const CTL_USAGE = `usage: novalet ctl [--run-dir DIR | --socket PATH | --config FILE] [--json] <command>
commands:
  status           agent status (servers, operations in flight, drained, fencing lease, unknown domains)
  list             servers with power and task state, and domains the journal does not know
  show <uuid>      one server: spec, libvirt state, operations with their journaled steps
  events           tail the agent's events (Ctrl-C to stop)
  drain | undrain  refuse / accept new work (stop, reboot, pause, suspend, destroy, detach, snapshot, resize confirm/revert still accepted)
  reconcile        force a reconciliation now (interrupted operations + power sweep)`;

export async function ctlCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json', 'help']);
  const [cmd, ...args] = positional;
  if (flags['help'] || !cmd) { console.log(CTL_USAGE); return cmd ? 0 : 2; }
  if (!(CTL_COMMANDS as readonly string[]).includes(cmd)) { console.error(`unknown ctl command ${cmd}\n${CTL_USAGE}`); return 2; }
  const runDir = str(flags, 'run-dir') ?? (str(flags, 'config') ? loadConfig(str(flags, 'config')).runDir : DEFAULT_CONFIG.runDir);
  const socket = str(flags, 'socket') ?? ctlSocketPath(runDir);
  const json = flags['json'] === true;

  if (cmd === 'events') {
    const s = ctlEvents(socket, (e) => console.log(json ? JSON.stringify(e) : formatEvent(e as AgentEvent)));
    process.on('SIGINT', () => s.stop());
    await s.done;
    return 0;
  }
  try {
    const data = await ctlRequest(socket, { cmd: cmd as CtlCommand, args });
    if (json || cmd !== 'list') console.log(JSON.stringify(data, null, 2));
    else printList(data as ListServersResponse);
    return 0;
  } catch (err) {
    if (err instanceof CtlError) { console.error(`error (${err.info.code}): ${err.message}`); return 1; }
    console.error(`cannot reach the agent at ${socket}: ${(err as Error).message}`);
    return 1;
  }
}

function formatEvent(e: AgentEvent): string {
  return `${e.time} #${e.seq} ${e.type}${e.uuid ? ` ${e.uuid}` : ''}${e.requestId ? ` [${e.requestId}]` : ''} ${e.message}`;
}

function printList(r: ListServersResponse): void {
  const rows = [['UUID', 'NAME', 'STATUS', 'POWER', 'TASK'], ...r.servers.map((s) => [s.uuid, s.displayName, s.status, s.power, s.task ?? '-'])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(w[i]!)).join('  '));
  if (r.unknownDomains.length) {
    console.log('\nunknown domains (not in the journal; left alone):');
    for (const d of r.unknownDomains) console.log(`  ${d.uuid}  ${d.name}  ${d.power}${d.managed ? '  (novalet metadata)' : ''}`);
  }
}

import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AgentError, toErrorInfo } from '../../rpc/errors.js';
import type { Agent } from '../agent.js';
import { runCtlCommand, type CtlRequest } from './commands.js';

export function ctlSocketPath(runDir: string): string {
  return join(runDir, 'ctl.sock');
}

/**
 * The operator socket: `<runDir>/ctl.sock`, mode 0600 in a 0700 dir, so only root (the agent's user) can
 * connect. One JSON request line in; one JSON response line out ({ok, data} | {ok:false, error}), except
 * `events`, which streams one {event} line per agent event until the client hangs up.
 */
export async function startCtlServer(agent: Agent, runDir: string): Promise<Server> {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  chmodSync(runDir, 0o700);
  const path = ctlSocketPath(runDir);
  if (existsSync(path)) unlinkSync(path); // stale socket of a killed agent
  const server = createServer((sock) => handle(agent, sock));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // umask-proof: the socket is chmod'ed right after bind, and the dir is 0700 meanwhile
    server.listen(path, () => { chmodSync(path, 0o600); resolve(); });
  });
  return server;
}

function handle(agent: Agent, sock: Socket): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('error', () => { /* client went away */ });
  sock.on('data', (chunk: string) => {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    const line = buf.slice(0, nl);
    buf = '';
    sock.removeAllListeners('data');
    void respond(agent, sock, line);
  });
}

async function respond(agent: Agent, sock: Socket, line: string): Promise<void> {
  const send = (v: unknown): boolean => sock.write(`${JSON.stringify(v)}\n`);
  let req: CtlRequest;
  try {
    req = JSON.parse(line) as CtlRequest;
    if (!req || typeof req.cmd !== 'string') throw new AgentError('bad_request', 'expected {"cmd": ..., "args": [...]}');
  } catch (err) {
    send({ ok: false, error: toErrorInfo(err instanceof AgentError ? err : new AgentError('bad_request', 'malformed request line')) });
    sock.end();
    return;
  }
  agent.deps.log.info({ ctl: req.cmd, args: req.args }, 'ctl command');
  if (req.cmd === 'events') {
    // tail: the recent history, then live events until the operator hangs up
    for (const e of agent.deps.events.since(0).slice(-20)) send({ event: e });
    const off = agent.deps.events.subscribe((e) => send({ event: e }));
    sock.on('close', off);
    return;
  }
  try {
    send({ ok: true, data: await runCtlCommand(agent, req) });
  } catch (err) {
    send({ ok: false, error: toErrorInfo(err) });
  }
  sock.end();
}

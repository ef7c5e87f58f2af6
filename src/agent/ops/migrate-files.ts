/**
 * The source's side of a resize or cold migration to another host: the instance files the target's agent pulls
 * (GET /v1/servers/:uuid/files[/:name], cluster secret). Read-only, no operation: the guest must be shut off (the
 * controller stopped it), so the copy is consistent (only the config drive is served while it runs: a live
 * migration's destination takes it); the files stay here until the resize is confirmed (a
 * destroy here) or reverted (the guest starts here again from them).
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { AgentError } from '../../rpc/errors.js';
import { serverFiles } from './domain-spec.js';
import { powerOf } from './helpers.js';
import type { AgentDeps } from './types.js';

/**
 * the files a move carries: the server's own files in its instance dir, not its console log. While the guest runs
 * only its config drive (read-only, never written: a live migration's destination copies it byte for byte)
 */
async function movable(deps: AgentDeps, uuid: string, name?: string): Promise<Map<string, string>> {
  const s = deps.journal.getServer(uuid);
  if (!s || s.status === 'deleted') throw new AgentError('unknown_server', `no server ${uuid} on this host`);
  const power = powerOf(await deps.hv.getDomain(uuid));
  const f = serverFiles(deps.paths, uuid);
  const running = power === 'running' || power === 'paused';
  if (running && name !== basename(f.config)) throw new AgentError('invalid_state', `the guest of ${uuid} is ${power}: its files are copied only while it is shut off`);
  const out = new Map<string, string>();
  for (const p of s.files) {
    if (dirname(p) !== f.dir || p === f.consoleLog || !existsSync(p)) continue;
    if (running && p !== f.config) continue;
    if ((await stat(p)).isFile()) out.set(basename(p), p);
  }
  return out;
}

export async function instanceFiles(deps: AgentDeps, uuid: string): Promise<Array<{ name: string; sizeBytes: number }>> {
  const files = await movable(deps, uuid);
  return Promise.all([...files].map(async ([name, p]) => ({ name, sizeBytes: (await stat(p)).size })));
}

export async function openInstanceFile(deps: AgentDeps, uuid: string, name: string): Promise<{ stream: Readable; sizeBytes: number }> {
  const p = (await movable(deps, uuid, name)).get(name);
  if (!p) throw new AgentError('unknown_server', `server ${uuid} has no file ${name} on this host`);
  return { stream: createReadStream(p), sizeBytes: (await stat(p)).size };
}

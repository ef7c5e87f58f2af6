import { createConnection } from 'node:net';
import type { ErrorInfo } from '../../rpc/errors.js';
import type { CtlRequest } from './commands.js';

export class CtlError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

/** Sends one ctl request and resolves with its data (throws CtlError on a typed failure). */
export function ctlRequest(socketPath: string, req: CtlRequest, timeoutMs = 120_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('ctl: timed out')); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (c: string) => { buf += c; });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(buf.split('\n')[0] ?? '') as { ok: boolean; data?: unknown; error?: ErrorInfo };
        if (r.ok) resolve(r.data);
        else reject(new CtlError(r.error ?? { code: 'internal', message: 'ctl: no error detail' }));
      } catch {
        reject(new Error(`ctl: bad response: ${buf.slice(0, 200)}`));
      }
    });
  });
}

/** Streams `events`: calls onEvent per line until the returned stop() is called. */
export function ctlEvents(socketPath: string, onEvent: (e: unknown) => void): { stop: () => void; done: Promise<void> } {
  const sock = createConnection(socketPath);
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write(`${JSON.stringify({ cmd: 'events' })}\n`));
  sock.on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try { onEvent((JSON.parse(line) as { event: unknown }).event); } catch { /* skip */ }
    }
  });
  const done = new Promise<void>((resolve, reject) => { sock.on('close', () => resolve()); sock.on('error', reject); });
  return { stop: () => sock.destroy(), done };
}

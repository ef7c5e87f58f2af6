/**
 * Ports for test processes that bind later (or again after a kill -9). They are picked below the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default): a port the kernel handed out with
 * listen(0) may, by the time the child binds it, be the local end of some client connection, which is how a
 * `--base-port` run of simulated hosts once failed with EADDRINUSE. Below that range only listeners live.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOW = 20_000;

function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOW + 1000 ? first : 32_768;
  } catch { return 32_768; }
}

const canBind = (port: number): Promise<boolean> => new Promise((res) => {
  const s = createServer();
  s.once('error', () => res(false));
  s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
});

/** `count` consecutive ports on 127.0.0.1 that nothing holds now; the first is returned */
export async function freePorts(count: number): Promise<number> {
  const high = ephemeralStart() - count;
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + Math.floor(Math.random() * (high - LOW));
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await canBind(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} free consecutive ports between ${LOW} and ${high}`);
}

export const freePort = (): Promise<number> => freePorts(1);

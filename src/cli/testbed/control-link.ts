/**
 * How the root namespace reaches a testbed's controller: a veth `<prefix>-c` (root) <-> `ctl0` (bridge namespace)
 * with a /30 of 10.78.0.0/16 that no route or address of the root namespace overlaps (two testbeds at once each
 * get their own). The controller listens in the bridge namespace, so it reaches the agents on 10.77.0.0/24 directly
 * (br0 = 10.77.0.254) and the hosts reach its public address through br0; the root namespace only gets the /30:
 * nothing is routed between the testbed and any other network.
 */
import { createHash } from 'node:crypto';
import { run } from './sys.js';
import type { NovaletState } from './state.js';

export const BRIDGE_IP = '10.77.0.254';

export const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** IPv4 prefixes (a.b.c.d/len) the root namespace already routes or owns, the default route excepted */
async function usedPrefixes(): Promise<Array<[number, number]>> {
  const out = [
    String((await run('ip', ['-4', '-o', 'addr', 'show'], { reject: false })).stdout),
    String((await run('ip', ['-4', 'route', 'show', 'table', 'all'], { reject: false })).stdout),
  ].join('\n');
  const res: Array<[number, number]> = [];
  for (const m of out.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?(?=\s|$)/gm)) {
    const len = m[2] === undefined ? 32 : Number(m[2]);
    if (len === 0) continue;
    res.push([toInt(m[1]!), len]);
  }
  return res;
}

/** two prefixes overlap when they agree on the bits of the shorter one */
const overlaps = (a: number, alen: number, b: number, blen: number) => {
  const d = 2 ** (32 - Math.min(alen, blen));
  return Math.floor(a / d) === Math.floor(b / d);
};

/**
 * The first /30 of 10.78.0.0/16, starting at a place derived from the prefix, that overlaps none of `used`
 * (network, prefix length); undefined when all are taken.
 */
export function freeLinkSubnet(prefix: string, used: Array<[number, number]>): string | undefined {
  const base = toInt('10.78.0.0');
  const start = createHash('sha256').update(prefix).digest().readUInt16BE(0) % 16384;
  for (let i = 0; i < 16384; i++) {
    const net = base + ((start + i) % 16384) * 4;
    if (!used.some(([a, len]) => overlaps(a, len, net, 30))) return toIp(net);
  }
  return undefined;
}

/** a free /30 for the link; record it in the state before createLink (teardown finds it there) */
export async function pickLink(prefix: string): Promise<NovaletState['link']> {
  const net = freeLinkSubnet(prefix, await usedPrefixes());
  if (!net) throw new Error('no free /30 in 10.78.0.0/16 for the testbed controller link');
  const n = toInt(net);
  return { rootIf: `${prefix}-c`, rootIp: toIp(n + 1), bridgeIp: toIp(n + 2) };
}

/** the veth, its addresses, br0's address and each host's route to the controller */
export async function createLink(link: NovaletState['link'], bridgeNetns: string, hostNetns: string[]): Promise<void> {
  await run('ip', ['link', 'add', link.rootIf, 'type', 'veth', 'peer', 'name', 'ctl0', 'netns', bridgeNetns]);
  await run('ip', ['addr', 'add', `${link.rootIp}/30`, 'dev', link.rootIf]);
  await run('ip', ['link', 'set', link.rootIf, 'up']);
  await run('ip', ['-n', bridgeNetns, 'addr', 'add', `${link.bridgeIp}/30`, 'dev', 'ctl0']);
  await run('ip', ['-n', bridgeNetns, 'link', 'set', 'ctl0', 'up']);
  await run('ip', ['-n', bridgeNetns, 'addr', 'add', `${BRIDGE_IP}/24`, 'dev', 'br0']);
  // the controller's public address is local to the bridge namespace: the hosts need a route to it, no forwarding
  for (const ns of hostNetns) await run('ip', ['-n', ns, 'route', 'add', `${link.bridgeIp}/32`, 'via', BRIDGE_IP]);
}

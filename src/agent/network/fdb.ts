/**
 * VXLAN head-end replication: one all-zeros fdb entry per remote VTEP (`bridge fdb append 00:00:00:00:00:00 dev
 * nvx… dst <peer>`), so broadcast/unknown traffic is copied to every other host with ports on the network. The
 * entries are kept equal to the controller's `peers`: the difference is added or removed, nothing else touched.
 */
import { isIP } from 'node:net';

export const FLOOD_MAC = '00:00:00:00:00:00';

/** The peers of the all-zeros entries in `bridge fdb show dev <vxlan>` output. */
export function parseFloodPeers(fdbShow: string): string[] {
  const out = new Set<string>();
  for (const line of fdbShow.split('\n')) {
    const m = /^00:00:00:00:00:00\s.*\bdst\s+(\S+)/.exec(line.trim());
    if (m?.[1]) out.add(m[1]);
  }
  return [...out].sort();
}

export interface FdbDiff {
  add: string[];
  remove: string[];
}

/** What to append and delete so that the flood entries equal `want` (duplicates and order ignored). */
export function diffPeers(have: readonly string[], want: readonly string[]): FdbDiff {
  const h = new Set(have);
  const w = new Set(want);
  return { add: [...w].filter((p) => !h.has(p)).sort(), remove: [...h].filter((p) => !w.has(p)).sort() };
}

/** Peers must be plain IP addresses (they become `dst` arguments), and never ourselves. */
export function checkPeers(peers: readonly string[], local: string | undefined): string[] {
  const bad = peers.filter((p) => isIP(p) === 0);
  if (bad.length) throw new Error(`peers: not an IP address: ${bad.join(', ')}`);
  return [...new Set(peers)].filter((p) => p !== local).sort();
}

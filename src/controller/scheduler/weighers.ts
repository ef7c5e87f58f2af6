/**
 * Nova's weighers: each one scores the hosts that passed the filters, the scores are normalised to 0..1 across those
 * hosts (Nova's normalize: (v - min) / (max - min), all 0 when every host scores the same) and summed with a
 * multiplier per weigher. Positive multipliers spread servers (most free RAM / vCPUs / disk first: Nova's defaults
 * ram_weight_multiplier = cpu_weight_multiplier = disk_weight_multiplier = 1.0); negative ones pack them.
 * The soft group policies come first, not as one more summed weigher (Nova's soft_*_weight_multiplier = 1.0 lets
 * free RAM outvote a soft-anti-affinity group, which is not what a user asking for it wants): among the hosts with
 * the best group score, the weighers decide.
 */

/** what a weigher sees of a host that fits: its free room after this server's claim would be added */
export interface WeighedHost {
  name: string;
  freeRamMb: number;
  freeVcpus: number;
  freeDiskGb: number;
  /** soft-affinity (+members) / soft-anti-affinity (-members) */
  groupPreference: number;
}

export interface WeigherMultipliers {
  /** Nova's ram_weight_multiplier */
  ram: number;
  /** Nova's cpu_weight_multiplier */
  cpu: number;
  /** Nova's disk_weight_multiplier */
  disk: number;
}

export const SPREAD: WeigherMultipliers = { ram: 1, cpu: 1, disk: 1 };
/** the weighers reversed: fill a host before the next */
export const PACK: WeigherMultipliers = { ram: -1, cpu: -1, disk: -1 };

type Metric = (h: WeighedHost) => number;
const WEIGHERS: [keyof WeigherMultipliers, Metric][] = [
  ['ram', (h) => h.freeRamMb],
  ['cpu', (h) => h.freeVcpus],
  ['disk', (h) => h.freeDiskGb],
];

/** The best host (best group score, then highest weighed sum; ties keep the first), or null. O(hosts x weighers). */
export function bestHost(all: readonly WeighedHost[], m: WeigherMultipliers): WeighedHost | null {
  let top = -Infinity;
  for (const h of all) if (h.groupPreference > top) top = h.groupPreference;
  const hosts = all.filter((h) => h.groupPreference === top);
  if (hosts.length <= 1) return hosts[0] ?? null;
  const totals = new Array<number>(hosts.length).fill(0);
  for (const [key, metric] of WEIGHERS) {
    const mult = m[key];
    if (mult === 0) continue;
    let min = Infinity;
    let max = -Infinity;
    for (const h of hosts) {
      const v = metric(h);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max === min) continue;
    const range = max - min;
    hosts.forEach((h, i) => { totals[i]! += (mult * (metric(h) - min)) / range; });
  }
  let best = 0;
  for (let i = 1; i < hosts.length; i++) if (totals[i]! > totals[best]!) best = i;
  return hosts[best]!;
}

/**
 * The canonical text of an IPv6 address as Nova stores it (netaddr, i.e. glibc's inet_ntop): lowercase hex without
 * leading zeros, the longest run of two or more zero groups (the first of equal runs) as `::`, and a dotted IPv4 tail
 * only for ::a.b.c.d and ::ffff:a.b.c.d. Text that is not an IPv6 address, or carries a zone, is returned unchanged.
 */
import { isIPv6 } from 'node:net';

function groups(part: string): number[] {
  if (part === '') return [];
  const out: number[] = [];
  for (const g of part.split(':')) {
    if (g.includes('.')) {
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      out.push((a << 8) | b, (c << 8) | d);
    } else out.push(parseInt(g, 16));
  }
  return out;
}

export function canonicalIPv6(addr: string): string {
  if (!isIPv6(addr) || addr.includes('%')) return addr;
  const gap = addr.indexOf('::');
  let w: number[];
  if (gap < 0) w = groups(addr);
  else {
    const head = groups(addr.slice(0, gap));
    const tail = groups(addr.slice(gap + 2));
    w = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  // the longest run of zero groups
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && w[i] === 0) {
      if (cur.base < 0) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base >= 0) {
      if (cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base >= 0 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      out += `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
      return out;
    }
    out += w[i]!.toString(16);
  }
  if (best.base >= 0 && best.base + best.len === 8) out += ':';
  return out;
}

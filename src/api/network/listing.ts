/**
 * Neutron's list query: any attribute as a filter (repeated = any of; lists match by membership; booleans in any
 * case; `fixed_ips=ip_address=X` / `subnet_id=Y`), `fields` (repeatable) to show only some attributes, `sort_key` /
 * `sort_dir`, and `limit` / `marker` paging.
 */
import { invalidInput } from '../../controller/network/errors.js';

type View = Record<string, unknown>;
const RESERVED = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse']);

const values = (v: unknown): string[] => ([] as unknown[]).concat(v ?? []).map(String);

function matches(item: View, key: string, wanted: string[]): boolean {
  if (key === 'fixed_ips') {
    const ips = (item.fixed_ips ?? []) as Array<{ subnet_id: string; ip_address: string }>;
    return wanted.every((w) => {
      const [k, v] = w.split('=', 2);
      if (k === 'ip_address') return ips.some((x) => x.ip_address === v);
      if (k === 'subnet_id') return ips.some((x) => x.subnet_id === v);
      if (k === 'ip_address_substr') return ips.some((x) => x.ip_address.includes(v ?? ''));
      return true;
    });
  }
  if (!(key in item)) return true; // an attribute this subset does not have filters nothing
  const v = item[key];
  if (Array.isArray(v)) return wanted.some((w) => v.map(String).includes(w));
  if (typeof v === 'boolean') return wanted.some((w) => w.toLowerCase() === String(v));
  return wanted.includes(v === null ? '' : String(v)) || (v === null && wanted.includes('None'));
}

export function fieldsOf(q: Record<string, unknown>): string[] | null {
  const f = values(q.fields).flatMap((x) => x.split(',')).filter(Boolean);
  return f.length ? f : null;
}

export function pick(item: View, fields: string[] | null): View {
  return fields ? Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]])) : item;
}

export function listing(items: View[], q: Record<string, unknown>): View[] {
  let out = items.filter((it) => Object.entries(q).every(([k, v]) => RESERVED.has(k) || matches(it, k, values(v))));
  const keys = values(q.sort_key);
  if (keys.length) {
    const dirs = values(q.sort_dir);
    out = [...out].sort((a, b) => {
      for (const [i, k] of keys.entries()) {
        const x = String(a[k] ?? ''); const y = String(b[k] ?? '');
        if (x !== y) return (x < y ? -1 : 1) * (dirs[i] === 'desc' ? -1 : 1);
      }
      return 0;
    });
  }
  const marker = values(q.marker)[0];
  if (marker) {
    const i = out.findIndex((x) => x.id === marker);
    if (i < 0) throw invalidInput(`marker ${marker} not found`);
    out = out.slice(i + 1);
  }
  const limit = values(q.limit)[0];
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw invalidInput(`'${limit}' is not an integer`);
    if (n > 0) out = out.slice(0, n);
  }
  const fields = fieldsOf(q);
  return out.map((x) => pick(x, fields));
}

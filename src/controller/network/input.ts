/** Reading Neutron request bodies: each attribute checked the way Neutron's validators do, InvalidInput otherwise. */
import { invalidInput } from './errors.js';

export type Body = Record<string, unknown>;

export function body(b: unknown, key: string): Body {
  const v = (b as Body | null | undefined)?.[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidInput(`Resource body required`);
  return v as Body;
}

export function str(b: Body, k: string, max = 255): string | undefined {
  const v = b[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidInput(`'${JSON.stringify(v)}' is not a valid string`);
  if (v.length > max) throw invalidInput(`'${v}' exceeds maximum length of ${max}`);
  return v;
}

export function nullableStr(b: Body, k: string): string | null | undefined {
  return b[k] === null ? null : str(b, k);
}

/** Neutron's convert_to_boolean: true/false, "true"/"false" (any case), 1/0 */
export function bool(b: Body, k: string): boolean | undefined {
  const v = b[k];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw invalidInput(`'${String(v)}' cannot be converted to boolean`);
}

export function int(b: Body, k: string): number | null | undefined {
  const v = b[k];
  if (v === undefined || v === null) return v as undefined | null;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidInput(`'${String(v)}' is not an integer`);
  return n;
}

export function list(b: Body, k: string): unknown[] | undefined {
  const v = b[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw invalidInput(`'${JSON.stringify(v)}' is not a list`);
  return v;
}

/** Query-string helpers shared by the APIs: repeated parameters and the `limit` of paginated lists. */
import { badRequest } from '../controller/errors.js';

/** a repeated parameter arrives as an array: the last one counts (as in Nova and Glance) */
export const lastParam = (v: unknown): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v) as string | undefined;

/**
 * `limit`: digits only (anything else, `1.5`, `abc`, a NUL, is 400 "limit param must be an integer"; a negative
 * number "must be positive"); a value above `max` is clamped to it, as Nova's max_limit and Glance's
 * api_limit_max do. undefined when absent.
 */
export function parseLimit(v: unknown, max: number): number | undefined {
  const l = lastParam(v);
  if (l === undefined) return undefined;
  if (/^-\d+$/.test(l)) throw badRequest('limit param must be positive');
  if (!/^\d+$/.test(l)) throw badRequest('limit param must be an integer');
  return Math.min(Number(l), max);
}

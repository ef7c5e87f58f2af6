/**
 * GET /servers[/detail] query -> ServerQuery, with Nova's policy (admin-only filters), microversion gates and
 * error messages. Only whitelisted parameters reach the store; SQL is built from this typed query only.
 */
import type { FastifyRequest } from 'fastify';
import type { ServerQuery } from '../../store/index.js';
import { isAdmin } from '../../controller/context.js';
import { badRequest, forbidden } from '../../controller/errors.js';
import { isKnownStatus, isSearchPattern, isServerSortKey } from '../../controller/compute/server-query.js';
import { atLeast } from './microversion.js';
import { parseIso8601 } from '../../common/iso8601.js';
import { parseLimit } from '../query.js';

type Q = Record<string, string | string[] | undefined>;
const last = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v);
const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const TRUE = new Set(['1', 't', 'true', 'on', 'y', 'yes', '']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);
function bool(name: string, v: string): boolean {
  const s = v.toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw badRequest(`Invalid value '${v}' for ${name}`);
}

/** last path segment: clients may pass an image/flavor URL */
const ref = (v: string) => v.replace(/\/+$/, '').split('/').pop() ?? v;

/**
 * Filters are user-supplied regexes run against every candidate row; the store runs them with RE2 (linear time,
 * whatever the pattern), which cannot run backreferences or lookaround: those, syntax errors and very long
 * patterns are 400.
 */
function regex(name: string, v: string): string {
  if (v.length > 255 || !isSearchPattern(v)) throw badRequest(`Invalid regular expression for ${name}: ${v}`);
  return v;
}

/** Nova's date-time filters (changes-since, changes-before): ISO 8601 only */
function isoTime(name: string, v: string): string {
  const t = parseIso8601(v);
  if (t === undefined) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' is not a 'date-time'`);
  return new Date(t).toISOString();
}

/**
 * changes-since (from `sinceFrom` on) and changes-before (2.66): ISO 8601 times, the first not after the second.
 * Servers have both filters at every version, instance actions from 2.58.
 */
export function changesWindow(req: FastifyRequest, sinceFrom: string): { changesSince?: string; changesBefore?: string } {
  const q = req.query as Q;
  const cs = last(q['changes-since']);
  const changesSince = cs !== undefined && atLeast(req, sinceFrom) ? isoTime('changes-since', cs) : undefined;
  const cb = last(q['changes-before']);
  const changesBefore = cb !== undefined && atLeast(req, '2.66') ? isoTime('changes-before', cb) : undefined;
  if (changesSince !== undefined && changesBefore !== undefined && changesBefore < changesSince) {
    throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  }
  return { ...(changesSince !== undefined ? { changesSince } : {}), ...(changesBefore !== undefined ? { changesBefore } : {}) };
}

export interface ParsedList { query: ServerQuery; limit: number; empty: boolean; }

export function parseListQuery(req: FastifyRequest, maxLimit: number): ParsedList {
  const q = req.query as Q;
  const ctx = req.ctx;
  const admin = isAdmin(ctx);
  const out: ServerQuery = {};
  let empty = false;

  const at = last(q.all_tenants);
  let allTenants = false;
  if (at !== undefined) {
    allTenants = bool('all_tenants', at);
    if (allTenants && !admin) throw forbidden("Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.");
  }
  const pid = last(q.project_id) ?? last(q.tenant_id);
  if (admin && allTenants && pid) out.projectId = pid;
  else if (!allTenants) out.projectId = ctx.projectId;
  if (admin && allTenants && last(q.user_id)) out.userId = last(q.user_id)!;
  else if (last(q.user_id) && admin) out.userId = last(q.user_id)!;

  const name = last(q.name);
  if (name !== undefined && name !== '') out.nameRegex = regex('name', name);

  const statuses = all(q.status).map((s) => s.toUpperCase());
  if (statuses.length) {
    const known = statuses.filter(isKnownStatus);
    if (known.length < statuses.length) {
      if (atLeast(req, '2.38')) throw badRequest(`Invalid status value`);
      empty = true; // before 2.38 an unknown status simply matches nothing
    }
    out.statuses = known;
    if (known.includes('DELETED')) {
      if (!admin) empty = true; else out.deleted = 'include';
    }
  }
  const image = last(q.image); if (image) out.imageRef = ref(image);
  const flavor = last(q.flavor); if (flavor) out.flavorId = ref(flavor);
  const rid = last(q.reservation_id); if (rid) out.reservationId = rid;
  const ip = last(q.ip); if (ip) out.ipRegex = regex('ip', ip);
  const ip6 = last(q.ip6); if (ip6 && (admin || atLeast(req, '2.5'))) out.ip6Regex = regex('ip6', ip6);
  const az = last(q.availability_zone); if (az) out.availabilityZone = az;
  const kn = last(q.key_name); if (kn && admin) out.keyName = kn;
  const { changesSince, changesBefore } = changesWindow(req, '2.1');
  if (changesSince !== undefined) { out.changesSince = changesSince; out.deleted ??= 'include'; }
  if (changesBefore !== undefined) { out.changesBefore = changesBefore; out.deleted ??= 'include'; }
  if (admin) {
    const host = last(q.host); if (host) out.host = host;
    const node = last(q.node); if (node) out.node = node;
    const del = last(q.deleted);
    if (del !== undefined && bool('deleted', del)) out.deleted = 'only';
  }
  const locked = last(q.locked);
  if (locked !== undefined && atLeast(req, '2.73')) out.locked = bool('locked', locked);
  if (atLeast(req, '2.26')) {
    const tl = (k: string) => { const v = last(q[k]); return v ? v.split(',').map((t) => t.trim()).filter(Boolean) : undefined; };
    const t1 = tl('tags'); if (t1) out.tags = t1;
    const t2 = tl('tags-any'); if (t2) out.tagsAny = t2;
    const t3 = tl('not-tags'); if (t3) out.notTags = t3;
    const t4 = tl('not-tags-any'); if (t4) out.notTagsAny = t4;
  }

  const keys = all(q.sort_key); const dirs = all(q.sort_dir);
  if (keys.length || dirs.length) {
    const sort: NonNullable<ServerQuery['sort']> = [];
    keys.forEach((k, i) => {
      if (!isServerSortKey(k)) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
      const d = (dirs[i] ?? dirs[0] ?? 'desc').toLowerCase();
      if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid input for query parameters sort_dir. Value: ${d}.`);
      sort.push({ key: k, dir: d });
    });
    if (!keys.length) {
      const d = dirs[0]!.toLowerCase();
      if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid input for query parameters sort_dir. Value: ${d}.`);
      sort.push({ key: 'created_at', dir: d });
    }
    out.sort = sort;
  }

  const limit = parseLimit(q.limit, maxLimit) ?? maxLimit;
  out.limit = limit;
  const marker = last(q.marker);
  if (marker !== undefined) out.marker = marker;
  return { query: out, limit, empty };
}

/** the `next` link: the same query with limit and marker replaced */
export function nextLink(base: string, req: FastifyRequest, limit: number, lastId: string): string {
  const q = req.query as Q;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (k === 'marker' || k === 'limit' || v === undefined) continue;
    for (const x of all(v)) p.append(k, x);
  }
  p.set('limit', String(limit));
  p.set('marker', lastId);
  return `${base}?${p.toString()}`;
}

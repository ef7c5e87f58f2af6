/**
 * Detailed server lists from renders kept per server revision. Listing 1,000 servers otherwise reads every column of
 * every row, builds 1,000 views and serializes them (~18 ms of a controller's CPU per page); with the renders it is
 * one (id, revision) query and a join of the JSON texts, and only servers written since their last render are read
 * and rendered again.
 *
 * Why a render stays right: a detailed view is a function of the server's row, the request's microversion and
 * role, and the controller's URLs (server.ts). Every write to a row increments its revision (a trigger in the store),
 * the microversion and role are part of the key, and each route set has its own renders (one URL set). host_status
 * follows the host's heartbeats, not the server, so it is left out of the render and added per request.
 *
 * Bounded by the characters held (least recently listed out first), so memory stays flat however many servers and
 * pages there are; a miss only costs what listing cost without the renders.
 */
import type { FastifyRequest } from 'fastify';
import type { Server, ServerQuery, ServerRevision } from '../../../store/index.js';
import { isAdmin } from '../../../controller/context.js';
import type { Urls } from '../urls.js';
import { detailView, hostStatusOf, type HostStatus } from './server.js';

/** where the servers come from: the same query as ids and revisions, and as rows */
export interface ServerSource {
  revisions(q: ServerQuery): Promise<ServerRevision[]>;
  list(q: ServerQuery): Promise<Server[]>;
}

/** a server's detailed view as UTF-8 JSON, without host_status, at the revision it was rendered from */
interface Render { revision: number; host: string | null; json: Buffer }

/** ~8 MB: about 5,000 servers' views (a view is ~1.5 KB), a few pages of 1,000 */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Up to this many servers of a page missing (written since, or never listed) are read by id; more, and the page is
 * read again whole (measured: ~10 us a server by primary key; the range scan of a 1,000-server page ~7 ms).
 */
const FEW_MISSING = 500;

const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

export class ServerListRenders {
  /** renders by variant (role and microversion), then by server id; each Map in least recently listed order */
  private readonly variants = new Map<string, Map<string, Render>>();
  private bytes = 0;
  /** `,"host_status":"UP"}` and the like: a render without its closing brace, then one of these */
  private readonly hostStatusTails = new Map<string, Buffer>();

  constructor(private readonly urls: Urls, private readonly source: ServerSource, private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /**
   * The detailed views of the servers `q` selects, in order, as the parts of one JSON array (Buffer.concat them);
   * `listed` and `lastId` describe the page as listed, for its next link.
   */
  async page(req: FastifyRequest, q: ServerQuery, hostStatus: HostStatus): Promise<{ parts: Buffer[]; listed: number; lastId: string | undefined }> {
    const variant = `${isAdmin(req.ctx) ? 'admin' : 'member'} ${req.mv}`;
    const renders = this.variants.get(variant) ?? new Map<string, Render>();
    this.variants.delete(variant);
    this.variants.set(variant, renders); // the most recently listed variant last
    const render = (s: Server) => this.keep(renders, s.id, { revision: s.revision, host: s.host, json: utf8(JSON.stringify(detailView(req, this.urls, s))) });
    let page = await this.source.revisions(q);
    let got: Array<Render | undefined> = page.map((r) => take(renders, r.id, r.revision));
    const missing = page.filter((_, i) => got[i] === undefined).map((r) => r.id);
    if (missing.length > FEW_MISSING) {
      // many servers changed (or never listed): reading the page again is cheaper than looking each one up by id
      const hits = new Map(page.map((r, i) => [r.id, got[i]]));
      const rows = await this.source.list({ ...q, viewFieldsOnly: true });
      page = rows;
      got = rows.map((s) => {
        const hit = hits.get(s.id);
        return hit !== undefined && hit.revision === s.revision ? hit : render(s);
      });
    } else if (missing.length > 0) {
      // read after the revisions: a server written in between comes back newer than listed, and is shown as it is now
      const rows = new Map((await this.source.list({ ids: missing, deleted: 'include', viewFieldsOnly: true })).map((s) => [s.id, s]));
      page.forEach((r, i) => {
        const s = got[i] === undefined ? rows.get(r.id) : undefined;
        if (s) got[i] = render(s);
      });
    }
    const parts: Buffer[] = [OPEN];
    for (const r of got) {
      if (!r) continue; // purged between the two reads
      if (parts.length > 1) parts.push(COMMA);
      const hs = hostStatusOf(req, r.host, hostStatus);
      if (hs === undefined) parts.push(r.json);
      else parts.push(r.json.subarray(0, r.json.length - 1), this.hostStatusTail(hs));
    }
    parts.push(CLOSE);
    // the page as listed decides the next link, like a page of rows would
    return { parts, listed: page.length, lastId: page[page.length - 1]?.id };
  }

  private hostStatusTail(hs: string): Buffer {
    let b = this.hostStatusTails.get(hs);
    if (!b) { b = Buffer.from(`,"host_status":${JSON.stringify(hs)}}`); this.hostStatusTails.set(hs, b); }
    return b;
  }

  private keep(renders: Map<string, Render>, id: string, r: Render): Render {
    const old = renders.get(id);
    if (old) { this.bytes -= old.json.length; renders.delete(id); }
    renders.set(id, r);
    this.bytes += r.json.length;
    // out first: the least recently listed of the variant used longest ago (Maps iterate in insertion order)
    for (const [variant, rs] of this.variants) {
      for (const [k, v] of rs) {
        if (this.bytes <= this.maxBytes) return r;
        rs.delete(k);
        this.bytes -= v.json.length;
      }
      if (rs !== renders) this.variants.delete(variant);
    }
    return r;
  }

  /** renders held and their size, for tests and metrics */
  stats(): { renders: number; bytes: number } {
    let n = 0;
    for (const rs of this.variants.values()) n += rs.size;
    return { renders: n, bytes: this.bytes };
  }
}

/** the render of `id` if it is at `revision`, moved to the most recently listed end */
function take(renders: Map<string, Render>, id: string, revision: number): Render | undefined {
  const r = renders.get(id);
  if (r === undefined || r.revision !== revision) return undefined;
  renders.delete(id);
  renders.set(id, r);
  return r;
}

/**
 * UTF-8 in a Buffer of its own: Buffer.from would slice small strings out of a shared 8 KB pool, and one kept render
 * would keep its whole pool chunk alive.
 */
function utf8(s: string): Buffer {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(s));
  b.write(s);
  return b;
}

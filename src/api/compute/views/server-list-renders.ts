/**
 * Detailed server lists from renders kept per server revision. Listing 1,000 servers otherwise reads every column of
 * every row, builds 1,000 views and serializes them (~18 ms of a controller's CPU per page); with the renders it is
 * one (id, revision) query and a join of the JSON texts, and only servers written since are read and rendered again.
 *
 * Why a render stays right: a detailed view is a function of the server's row, the request's microversion and
 * role, and the controller's URLs (server.ts). Every write to a row increments its revision (a trigger in the store),
 * the microversion and role are part of the key, and each route set has its own renders (one URL set). host_status
 * follows the host's heartbeats, not the server, so it is left out of the render and added per request.
 *
 * What is kept: a server's render once it was listed twice at the same revision. A server written between every
 * two lists (one being built, or a cloud where everything changes) is rendered per list and not kept: keeping it
 * would only turn its renders into old-generation garbage (measured: a page whose 1,000 servers all changed before
 * every list pushed the controller from ~145 to ~180 MiB when every render was kept). Bounded by the characters
 * held, least recently listed out first.
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

/**
 * A server as last listed: its revision, and from the second list at that revision its detailed view as JSON text
 * without host_status. Text, not a Buffer: Buffers live outside V8's heap, and V8 lets tens of MB of dead ones pile
 * up before it collects them.
 */
interface Entry { revision: number; host: string | null; json: string | null; /** page() call that last listed it */ listed: number }
type Rendered = Entry & { json: string };

/** ~8 M characters (~8 MB: V8 keeps ASCII text one byte a character): ~5,000 servers' views, a few pages of 1,000 */
export const DEFAULT_MAX_CHARS = 8 * 1024 * 1024;
/** what an entry costs besides its text (Map slot, object, id), in the same unit */
const ENTRY_CHARS = 100;
/** when over the bound, the least recently listed entries go until this share of it is held */
const EVICT_TO = 0.75;

/**
 * Up to this many servers of a page without a kept render are read by id; more, and the page is read again whole
 * (measured: ~10 us a server by primary key; the range scan of a 1,000-server page ~7 ms).
 */
const FEW_MISSING = 500;

export class ServerListRenders {
  /**
   * Entries by variant (role and microversion), then by server id. Recency is a stamp, not the Maps' order: moving
   * 1,000 entries to the end of a Map on every list made V8 rebuild its table again and again (measured: +25 MB of
   * heap on a page listed over and over).
   */
  private readonly variants = new Map<string, Map<string, Entry>>();
  private chars = 0;
  private pages = 0;
  /** `,"host_status":"UP"}` and the like: a render without its closing brace, then one of these */
  private readonly hostStatusTails = new Map<string, string>();

  constructor(private readonly urls: Urls, private readonly source: ServerSource, private readonly maxChars = DEFAULT_MAX_CHARS) {}

  /**
   * The detailed views of the servers `q` selects, in order, each as JSON text; `listed` and `lastId` describe the
   * page as listed, for its next link.
   */
  async page(req: FastifyRequest, q: ServerQuery, hostStatus: HostStatus): Promise<{ views: string[]; listed: number; lastId: string | undefined }> {
    const variant = `${isAdmin(req.ctx) ? 'admin' : 'member'} ${req.mv}`;
    let entries = this.variants.get(variant);
    if (!entries) { entries = new Map(); this.variants.set(variant, entries); }
    const listed = ++this.pages;
    const render = (s: Server): Rendered => {
      const json = JSON.stringify(detailView(req, this.urls, s));
      this.keep(entries, s.id, s, json, listed);
      return { revision: s.revision, host: s.host, json, listed };
    };

    let page = await this.source.revisions(q);
    let got: Array<Rendered | undefined> = page.map((r) => rendered(take(entries, r.id, r.revision, listed)));
    const missing = page.filter((_, i) => got[i] === undefined).map((r) => r.id);
    if (missing.length > FEW_MISSING) {
      // most need rendering (written since, or not listed twice yet): reading the page again whole is cheaper than by id
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

    const views: string[] = [];
    for (const r of got) {
      if (!r) continue; // purged between the two reads
      const hs = hostStatusOf(req, r.host, hostStatus);
      views.push(hs === undefined ? r.json : r.json.slice(0, -1) + this.hostStatusTail(hs));
    }
    // the page as listed decides the next link, like a page of rows would
    return { views, listed: page.length, lastId: page[page.length - 1]?.id };
  }

  private hostStatusTail(hs: string): string {
    let t = this.hostStatusTails.get(hs);
    if (t === undefined) { t = `,"host_status":${JSON.stringify(hs)}}`; this.hostStatusTails.set(hs, t); }
    return t;
  }

  /** Notes that `s` was listed as `json`: kept if it was listed at this revision before, else only its revision. */
  private keep(entries: Map<string, Entry>, id: string, s: Server, json: string, listed: number): void {
    const e = entries.get(id);
    if (e === undefined) {
      const fresh: Entry = { revision: s.revision, host: s.host, json: null, listed };
      entries.set(id, fresh);
      this.chars += cost(fresh);
    } else {
      // updated in place: replacing the Map entry costs a table slot each time
      this.chars -= cost(e);
      e.json = e.revision === s.revision ? json : null;
      e.revision = s.revision;
      e.host = s.host;
      e.listed = listed;
      this.chars += cost(e);
    }
    if (this.chars > this.maxChars) this.evict();
  }

  /** the least recently listed entries out, down to EVICT_TO of the bound (a sort now and then, not per list) */
  private evict(): void {
    const all: Array<[Map<string, Entry>, string, Entry]> = [];
    for (const es of this.variants.values()) for (const [id, e] of es) all.push([es, id, e]);
    all.sort((a, b) => a[2].listed - b[2].listed);
    for (const [es, id, e] of all) {
      if (this.chars <= this.maxChars * EVICT_TO) break;
      es.delete(id);
      this.chars -= cost(e);
    }
  }

  /** entries held, renders among them, and their size (tests) */
  stats(): { entries: number; renders: number; chars: number } {
    let n = 0;
    let r = 0;
    for (const es of this.variants.values()) {
      n += es.size;
      for (const e of es.values()) if (e.json !== null) r++;
    }
    return { entries: n, renders: r, chars: this.chars };
  }
}

const cost = (e: Entry): number => ENTRY_CHARS + (e.json?.length ?? 0);
const rendered = (e: Entry | undefined): Rendered | undefined => (e !== undefined && e.json !== null ? e as Rendered : undefined);

/** the entry of `id` if it is at `revision`, stamped as listed now */
function take(entries: Map<string, Entry>, id: string, revision: number, listed: number): Entry | undefined {
  const e = entries.get(id);
  if (e === undefined || e.revision !== revision) return undefined;
  e.listed = listed;
  return e;
}

/**
 * The PostgreSQL connection every repository shares: a pool, `?` placeholders (the SQL text the SQLite store's
 * pure builders produce, turned into `$n`), and transactions on one client with BEGIN/COMMIT that are retried when
 * PostgreSQL aborts them for a deadlock or a serialization failure (two claims moving across the same two hosts).
 */
import pg from 'pg';

export type Row = Record<string, unknown>;

/** What a statement runs on: the pool (one statement, autocommit) or the client of a transaction. */
export interface Queryable {
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }>;
}

/** `?` -> `$1, $2, ...` outside quoted literals and identifiers (our SQL never uses jsonb's `?` operators) */
export function numberPlaceholders(sql: string): string {
  let out = ''; let n = 0; let quote: string | null = null;
  for (const c of sql) {
    if (quote) { if (c === quote) quote = null; out += c; continue; }
    if (c === "'" || c === '"') { quote = c; out += c; continue; }
    out += c === '?' ? `$${++n}` : c;
  }
  return out;
}

const converted = new Map<string, string>();
function pgText(sql: string): string {
  let t = converted.get(sql);
  if (t === undefined) {
    t = numberPlaceholders(sql);
    if (converted.size > 2000) converted.clear();
    converted.set(sql, t);
  }
  return t;
}

/** 64-bit integers (COUNT, SUM, BIGINT ids and epoch-ms leases) as numbers: every value the store keeps fits 2^53 */
const INT8 = 20; const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 || oid === NUMERIC
    ? (v: string) => Number(v)
    : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** SQLSTATEs after which the whole transaction may simply run again */
const RETRYABLE = new Set(['40001', '40P01']);

function wrap(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query(sql, params = []) {
      const r = await c.query(pgText(sql), params as unknown[]);
      return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
    },
  };
}

export class PgDatabase {
  readonly pool: pg.Pool;
  /** statements outside a transaction */
  readonly q: Queryable;

  constructor(url: string, max = 10) {
    this.pool = new pg.Pool({ connectionString: url, max, types });
    // an idle client's error (the server restarted) must not crash the controller; the next query reconnects
    this.pool.on('error', () => undefined);
    this.q = wrap(this.pool);
  }

  /** `fn` on one client between BEGIN and COMMIT (ROLLBACK on a throw); re-run on a deadlock or serialization failure */
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (e as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < 5) continue;
        throw e;
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> { await this.pool.end(); }
}

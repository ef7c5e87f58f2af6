/**
 * PostgreSQL for tests: the server scripts/postgres.sh starts (or NOVALET_TEST_POSTGRES_URL), and a fresh
 * C-collated database per test, dropped afterwards. `postgresBase()` says why not when it cannot run here, so a
 * suite can skip with that message; scripts/test.sh (CI) starts the server, so there it always runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

let base: { url: string } | { skip: string } | undefined;

export function postgresBase(): { url: string } | { skip: string } {
  if (base) return base;
  if (process.env.NOVALET_TEST_POSTGRES_URL) return (base = { url: process.env.NOVALET_TEST_POSTGRES_URL });
  if (process.getuid?.() !== 0) return (base = { skip: 'PostgreSQL tests need root (scripts/postgres.sh) or NOVALET_TEST_POSTGRES_URL' });
  if (!existsSync('/usr/lib/postgresql') || readdirSync('/usr/lib/postgresql').length === 0) {
    return (base = { skip: "PostgreSQL is not installed (scripts/install.sh installs Debian's postgresql)" });
  }
  const out = execFileSync('bash', ['scripts/postgres.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return (base = { url: out.trim().split('\n').pop()! });
}

/** a new empty database on the test server; `drop()` removes it (and ends its connections) */
export async function freshPostgresDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `novalet_t_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: baseUrl });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  const u = new URL(baseUrl); u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

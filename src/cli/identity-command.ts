/**
 * `novalet user|project|role`: identity management on the controller's database (<data-dir>/controller.db, or
 * the store --store names: another SQLite file or a postgres:// URL),
 * through IdentityService, so the rules are the API's (hashed passwords, disabling or a new password revokes the
 * user's tokens at once, even while the controller runs: it validates every token against the store).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkStoreLocation, isPostgresUrl, openStore, type Store } from '../store/index.js';
import { defaultConfig } from '../controller/config.js';
import { IdentityService } from '../controller/identity/service.js';
import { KNOWN_ROLES } from '../controller/identity/config.js';
import { parseArgs, str } from './args.js';

export const IDENTITY_USAGE = `usage: novalet user create NAME --password PW [--project P] [--role R] [--disable] [--or-show]
       novalet user list
       novalet user set NAME [--enable | --disable] [--password PW]
       novalet project create NAME [--description TEXT] [--or-show]
       novalet project list
       novalet role add --user NAME --project NAME --role NAME
  common: [--data-dir DIR] (default /var/lib/novalet; database DIR/controller.db) [--store PATH|postgres://...]
          [-f table|json]`;

class UsageError extends Error {}

type Out = (line: string) => void;

/** Renders rows as an aligned table, or as JSON with -f json. */
function print(out: Out, format: string, rows: Array<Record<string, unknown>>, single = false): void {
  if (format === 'json') { out(JSON.stringify(single ? rows[0] : rows, null, 2)); return; }
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v ?? ''));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join('  ').trimEnd();
  out(line(cols));
  for (const r of rows) out(line(cols.map((c) => cell(r[c]))));
}

/** Runs one identity command; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function identityCommand(argv: string[], out: Out = (l) => console.log(l), err: Out = (l) => console.error(l)): Promise<number> {
  // -f json is the openstack client's spelling; parseArgs knows only --long flags
  const norm = argv.map((a) => (a === '-f' ? '--format' : a));
  const { flags, positional } = parseArgs(norm, ['enable', 'disable', 'or-show', 'help']);
  const [noun, verb, name] = positional;
  if (flags['help'] || !noun) { out(IDENTITY_USAGE); return noun ? 0 : 2; }
  const format = str(flags, 'format') ?? 'table';
  const dataDir = str(flags, 'data-dir') ?? '/var/lib/novalet';
  const dbPath = str(flags, 'store') ?? join(dataDir, 'controller.db');
  const bad = checkStoreLocation(dbPath);
  if (bad) { err(`--store: ${bad}`); return 2; }
  if (!isPostgresUrl(dbPath) && !existsSync(dbPath)) {
    err(`no controller database at ${dbPath} (start the controller once, or pass --data-dir or --store)`);
    return 1;
  }
  let store: Store;
  try {
    store = await openStore(dbPath);
  } catch (e) {
    err(`cannot open the store: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  try {
    const identity = new IdentityService(store, defaultConfig());
    await identity.ensureDomain('Default', 'default');
    for (const r of KNOWN_ROLES) await identity.ensureRole(r);
    await run(identity, store, { noun, verb, name, flags, format, out });
    return 0;
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    if (e instanceof UsageError) err(IDENTITY_USAGE);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await store.close();
  }
}

interface Cmd { noun: string; verb: string | undefined; name: string | undefined; flags: ReturnType<typeof parseArgs>['flags']; format: string; out: Out; }

async function run(identity: IdentityService, store: Store, c: Cmd): Promise<void> {
  const { flags } = c;
  const need = (v: string | undefined, what: string): string => { if (!v) throw new UsageError(`${c.noun} ${c.verb}: ${what} is required`); return v; };
  const project = async (n: string) => {
    const p = await store.getProjectByName('default', n);
    if (!p) throw new Error(`No project with a name or ID of '${n}' exists.`);
    return p;
  };
  const user = async (n: string) => {
    const u = await store.getUserByName('default', n) ?? await store.getUser(n);
    if (!u) throw new Error(`No user with a name or ID of '${n}' exists.`);
    return u;
  };
  const role = async (n: string) => {
    if (!(await store.getRoleByName(n))) throw new Error(`No role with a name or ID of '${n}' exists.`);
    return n;
  };
  const projectNames = async () => new Map((await store.listProjects()).map((p) => [p.id, p.name]));
  const userRow = async (id: string) => {
    const u = (await store.getUser(id))!;
    return { id: u.id, name: u.name, enabled: u.enabled, project: u.defaultProjectId ? (await projectNames()).get(u.defaultProjectId) ?? u.defaultProjectId : '' };
  };
  const key = `${c.noun} ${c.verb ?? ''}`.trim();
  switch (key) {
    case 'user create': {
      const name = need(c.name, 'NAME');
      const existing = await store.getUserByName('default', name);
      if (existing) {
        if (!flags['or-show']) throw new Error(`Conflict: user ${name} already exists (use --or-show)`);
        print(c.out, c.format, [await userRow(existing.id)], true);
        return;
      }
      const pw = need(str(flags, 'password'), '--password PW');
      const p = str(flags, 'project') ? await project(str(flags, 'project')!) : null;
      if (str(flags, 'role') && !p) throw new UsageError('user create: --role needs --project');
      const r = await role(str(flags, 'role') ?? 'member');
      const u = await identity.ensureUser(name, pw, { defaultProjectId: p?.id ?? null });
      if (p) await identity.grant(u.id, p.id, r);
      if (flags['disable']) await identity.setUserEnabled(u.id, false);
      print(c.out, c.format, [await userRow(u.id)], true);
      return;
    }
    case 'user list': {
      const names = await projectNames();
      print(c.out, c.format, (await store.listUsers()).map((u) => ({
        id: u.id, name: u.name, enabled: u.enabled, project: u.defaultProjectId ? names.get(u.defaultProjectId) ?? u.defaultProjectId : '',
      })));
      return;
    }
    case 'user set': {
      const u = await user(need(c.name, 'NAME'));
      if (flags['enable'] && flags['disable']) throw new UsageError('user set: --enable and --disable exclude each other');
      const pw = str(flags, 'password');
      if (!flags['enable'] && !flags['disable'] && pw === undefined) throw new UsageError('user set: nothing to change (--enable, --disable, --password PW)');
      if (pw !== undefined) await identity.setPassword(u.id, pw);
      if (flags['enable'] || flags['disable']) await identity.setUserEnabled(u.id, !!flags['enable']);
      return;
    }
    case 'project create': {
      const name = need(c.name, 'NAME');
      const existing = await store.getProjectByName('default', name);
      if (existing && !flags['or-show']) throw new Error(`Conflict: project ${name} already exists (use --or-show)`);
      const p = existing ?? await identity.ensureProject(name, 'default', str(flags, 'description') ?? '');
      print(c.out, c.format, [{ id: p.id, name: p.name, description: p.description, enabled: p.enabled }], true);
      return;
    }
    case 'project list':
      print(c.out, c.format, (await store.listProjects()).map((p) => ({ id: p.id, name: p.name, description: p.description, enabled: p.enabled })));
      return;
    case 'role add': {
      const u = await user(need(str(flags, 'user'), '--user NAME'));
      const p = await project(need(str(flags, 'project'), '--project NAME'));
      await identity.grant(u.id, p.id, await role(need(str(flags, 'role'), '--role NAME')));
      return;
    }
    default:
      throw new UsageError(`unknown command: ${key}`);
  }
}

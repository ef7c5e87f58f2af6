/** Identity from the config file (applyIdentityConfig) and the `novalet user|project|role` commands. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createHarness } from '../support/harness.js';
import { applyIdentityConfig, parseIdentityConfig } from '../../src/controller/identity/config.js';
import { identityCommand } from '../../src/cli/identity-command.js';
import { SqliteStore } from '../../src/store/index.js';
import { buildControllerApp } from '../../src/api/app.js';
import { defaultConfig } from '../../src/controller/config.js';
import { FakeHosts } from '../support/fake-hosts.js';
import { bootstrapIdentity } from '../../src/controller/identity/bootstrap.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const tokenFor = (app: FastifyInstance, user: string, pw: string, project: string) =>
  app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password: pw } } }, scope: { project: { name: project, domain: { name: 'Default' } } } } } });
const servers = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': token } });

const CFG = {
  projects: [{ name: 'web', description: 'the web team' }],
  users: [
    { name: 'alice', password: 'alicepw', project: 'web', roles: ['member'] },
    { name: 'bob', password: 'bobpw', project: 'ops', roles: ['admin'] },
    { name: 'carol', password: 'carolpw', project: 'web' },
  ],
};

test('applyIdentityConfig: declared projects/users/roles can log in with those roles; a second run changes nothing', async () => {
  const h = await createHarness();
  const id = h.app.novalet.identity;
  const r1 = await applyIdentityConfig(id, CFG);
  assert.deepEqual(r1.projects.sort(), ['ops', 'web']);
  let r = await tokenFor(h.app, 'alice', 'alicepw', 'web');
  assert.equal(r.statusCode, 201);
  assert.deepEqual(r.json().token.roles.map((x: { name: string }) => x.name).sort(), ['member', 'reader']);
  const alice = r.headers['x-subject-token'] as string;
  r = await tokenFor(h.app, 'bob', 'bobpw', 'ops');
  assert.ok(r.json().token.roles.some((x: { name: string }) => x.name === 'admin'));
  // no roles listed: member on the project
  r = await tokenFor(h.app, 'carol', 'carolpw', 'web');
  assert.deepEqual(r.json().token.roles.map((x: { name: string }) => x.name).sort(), ['member', 'reader']);
  assert.equal((await tokenFor(h.app, 'alice', 'alicepw', 'demo')).statusCode, 401, 'no role on demo');
  const before = JSON.stringify({ u: await h.store.listUsers(), p: await h.store.listProjects() });
  await applyIdentityConfig(id, CFG);
  assert.equal(JSON.stringify({ u: await h.store.listUsers(), p: await h.store.listProjects() }), before);
  assert.equal((await servers(h.app, alice)).statusCode, 200, 'an unchanged password keeps tokens valid');
  // a changed password revokes the old tokens; enabled:false locks the user out
  await applyIdentityConfig(id, { users: [{ name: 'alice', password: 'new-pw', project: 'web' }, { name: 'carol', password: 'carolpw', project: 'web', enabled: false }] });
  assert.equal((await servers(h.app, alice)).statusCode, 401);
  assert.equal((await tokenFor(h.app, 'alice', 'alicepw', 'web')).statusCode, 401);
  assert.equal((await tokenFor(h.app, 'alice', 'new-pw', 'web')).statusCode, 201);
  assert.equal((await tokenFor(h.app, 'carol', 'carolpw', 'web')).statusCode, 401);
  await h.close();
});

test('parseIdentityConfig refuses bad shapes and names the entry', () => {
  assert.deepEqual(parseIdentityConfig(undefined), {});
  const bad: Array<[unknown, RegExp]> = [
    [[], /ConfigError: identity: \/: expected object, got \[\]$/],
    [{ people: [] }, /ConfigError: identity: \/people: unknown key$/],
    [{ projects: [{}] }, /ConfigError: identity: \/projects\/0\/name: required key missing$/],
    [{ projects: [{ name: ' ' }] }, /ConfigError: identity: \/projects\/0\/name: expected string to match/],
    [{ users: [{ name: 'x' }] }, /ConfigError: identity: \/users\/0\/password: required key missing$/],
    [{ users: [{ name: 'x', password: 'p', project: 'web', roles: ['superuser'] }] }, /ConfigError: identity: \/users\/0\/roles\/0: expected one of "admin", "member", "reader", got "superuser"$/],
    [{ users: [{ name: 'x', password: 'p', roles: ['member'] }] }, /ConfigError: identity: \/users\/0\/roles: roles need a "project"$/],
    [{ users: [{ name: 'x', password: 'p', enabled: 'yes' }] }, /ConfigError: identity: \/users\/0\/enabled: expected boolean, got "yes"$/],
    [{ users: [{ name: 'x', password: 42 }] }, /ConfigError: identity: \/users\/0\/password: expected string, got 42$/],
  ];
  for (const [cfg, re] of bad) assert.throws(() => parseIdentityConfig(cfg), re, JSON.stringify(cfg));
});

test('novalet user|project|role on the controller DB: the controller sees the changes at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-idcli-'));
  const store = new SqliteStore(join(dir, 'controller.db'));
  const app = buildControllerApp(defaultConfig({ imageDir: join(dir, 'images') }), store, new FakeHosts(2), { periodic: false });
  await bootstrapIdentity(app.novalet.identity, { admin: 'adminpw', demo: 'demopw' });
  await app.ready();
  const cli = async (...argv: string[]) => {
    const out: string[] = []; const err: string[] = [];
    const code = await identityCommand([...argv, '--data-dir', dir], (l) => out.push(l), (l) => err.push(l));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  try {
    let r = await cli('project', 'create', 'web', '--description', 'the web team', '-f', 'json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).description, 'the web team');
    assert.equal((await cli('project', 'create', 'web')).code, 1, 'exists');
    assert.equal((await cli('project', 'create', 'web', '--or-show')).code, 0);
    r = await cli('user', 'create', 'alice', '--password', 'alicepw', '--project', 'web', '--role', 'member');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /alice\s+true\s+web/);
    const t = await tokenFor(app, 'alice', 'alicepw', 'web');
    assert.equal(t.statusCode, 201);
    const alice = t.headers['x-subject-token'] as string;
    assert.equal((await servers(app, alice)).statusCode, 200);
    const users = JSON.parse((await cli('user', 'list', '-f', 'json')).out);
    assert.deepEqual(users.map((u: { name: string }) => u.name).sort(), ['admin', 'alice', 'demo']);
    assert.equal(users.find((u: { name: string }) => u.name === 'alice').project, 'web');
    assert.deepEqual(JSON.parse((await cli('project', 'list', '-f', 'json')).out).map((p: { name: string }) => p.name).sort(), ['admin', 'demo', 'web']);
    // disabling revokes the token the user already holds
    assert.equal((await cli('user', 'set', 'alice', '--disable')).code, 0);
    assert.equal((await servers(app, alice)).statusCode, 401);
    assert.equal((await tokenFor(app, 'alice', 'alicepw', 'web')).statusCode, 401);
    assert.match((await cli('user', 'list')).out, /alice\s+false/);
    assert.equal((await cli('user', 'set', 'alice', '--enable', '--password', 'pw2')).code, 0);
    assert.equal((await tokenFor(app, 'alice', 'alicepw', 'web')).statusCode, 401);
    assert.equal((await tokenFor(app, 'alice', 'pw2', 'web')).statusCode, 201);
    // role add: reader on demo may look, not touch
    assert.equal((await tokenFor(app, 'alice', 'pw2', 'demo')).statusCode, 401);
    assert.equal((await cli('role', 'add', '--user', 'alice', '--project', 'demo', '--role', 'reader')).code, 0);
    const rt = (await tokenFor(app, 'alice', 'pw2', 'demo')).headers['x-subject-token'] as string;
    assert.equal((await servers(app, rt)).statusCode, 200);
    const w = await app.inject({ method: 'POST', url: '/compute/v2.1/os-keypairs', headers: { 'x-auth-token': rt }, payload: { keypair: { name: 'k' } } });
    assert.equal(w.statusCode, 403);
    // errors: unknown project/role/user, usage, no database
    r = await cli('user', 'create', 'bob', '--password', 'p', '--project', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.err, /No project with a name or ID of 'nope'/);
    assert.equal((await cli('user', 'list', '-f', 'json')).out.includes('bob'), false, 'failed create left nothing');
    assert.match((await cli('role', 'add', '--user', 'alice', '--project', 'web', '--role', 'god')).err, /No role/);
    assert.match((await cli('user', 'create', 'dave', '--password', 'p', '--project', 'web', '--role', 'god')).err, /No role/);
    assert.equal(await store.getRoleByName('god'), null);
    assert.equal((await cli('user', 'set', 'nobody', '--disable')).code, 1);
    assert.equal((await cli('user', 'set', 'alice')).code, 2);
    assert.equal((await cli('user', 'frob')).code, 2);
    const none = await identityCommand(['user', 'list', '--data-dir', join(dir, 'missing')], () => undefined, () => undefined);
    assert.equal(none, 1);
  } finally {
    await app.close(); await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const pg = postgresBase();
test('novalet user --store postgres://...: a user made on the shared database logs in at a controller on it', { skip: 'skip' in pg ? pg.skip : false }, async () => {
  const db = await freshPostgresDatabase((pg as { url: string }).url);
  const h = await createHarness({}, 2, { storeUrl: db.url });
  try {
    const out: string[] = []; const err: string[] = [];
    const code = await identityCommand(['user', 'create', 'erin', '--password', 'erinpw', '--project', 'demo', '--role', 'member', '--store', db.url], (l) => out.push(l), (l) => err.push(l));
    assert.equal(code, 0, err.join('\n'));
    assert.equal((await tokenFor(h.app, 'erin', 'erinpw', 'demo')).statusCode, 201);
    assert.equal(await identityCommand(['user', 'list', '--store', 'postgres://host-only:5432'], () => undefined, () => undefined), 2);
  } finally {
    await h.close();
    await db.drop();
  }
});

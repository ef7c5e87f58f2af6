/**
 * Property-based fuzzing of every HTTP route (issue 17). Routes come from fastify's own route table
 * (printRoutes, test/support/route-table.ts), so new routes are covered without touching this file. For every generated request: no 5xx,
 * the service's error shape on 4xx (src/api/errors.ts), and no database change when the request is refused.
 * The agent RPC server gets the same treatment (typed error codes, no 5xx).
 * Bounded: fixed seed; NOVALET_FUZZ_SEED and NOVALET_FUZZ_RUNS (runs per route and method) override it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';
import { routeTable } from '../support/route-table.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';
import { createRpcServer } from '../../src/rpc/server.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { ERROR_STATUS } from '../../src/rpc/errors.js';
import { OPERATION_KINDS } from '../../src/rpc/protocol/operations.js';
import { HEADER_PROTOCOL, PROTOCOL } from '../../src/rpc/protocol/version.js';
import { harness as agentHarness, silentLog, spawnParams, uuid, type Harness as AgentHarness } from './agent-doubles.js';

const SEED = Number(process.env['NOVALET_FUZZ_SEED'] ?? 20261206);
const RUNS = Number(process.env['NOVALET_FUZZ_RUNS'] ?? 60);

let h: Harness;
let serverId: string;
const counts = { requests: 0, byClass: {} as Record<string, number>, byService: {} as Record<string, Record<string, number>> };

function count(service: string, status: number): void {
  const cls = `${Math.floor(status / 100)}xx`;
  counts.requests++;
  counts.byClass[cls] = (counts.byClass[cls] ?? 0) + 1;
  const s = (counts.byService[service] ??= {});
  s[cls] = (s[cls] ?? 0) + 1;
}

const TABLES = ['servers', 'images', 'keypairs', 'flavors', 'flavor_extra_specs', 'tasks', 'instance_actions', 'users', 'projects',
  'server_groups', 'server_metadata', 'server_tags', 'quota_limits', 'role_assignments', 'revoked_tokens', 'fixed_ips', 'allocations',
  'networks', 'subnets', 'ports', 'port_ips', 'security_groups', 'security_group_rules'];

/** cheap database fingerprint: rows changed on the connection so far, plus row counts and image files */
function fingerprint(): string {
  const db = databaseOf(h.store);
  const changes = (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const rows = TABLES.map((t) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n);
  // and the image store's files: a refused upload leaves none behind
  return JSON.stringify([changes, rows, readdirSync(h.cfg.imageDir).length]);
}

/** a JSON body over the 1 MiB body limit (413 in the service's shape) */
const HUGE = JSON.stringify({ server: { name: 'x'.repeat(1024 * 1024 + 10) } });

const PROTO_NAMES = ['constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

/** a raw path segment: encoded random text, long text, unicode, %-escapes (valid and broken), prototype names, real ids */
function segment(): fc.Arbitrary<string> {
  const enc = (a: fc.Arbitrary<string>) => a.map(encodeURIComponent);
  return fc.oneof(
    enc(fc.string({ maxLength: 40 })),
    enc(fc.string({ unit: 'grapheme', maxLength: 20 })),
    enc(fc.string({ minLength: 250, maxLength: 1100 })),
    fc.constantFrom(...PROTO_NAMES, '%00', '%zz', '%', '%E2%82', '%C0%AF', '..', '.', '%2F', '%2e%2e', 'detail', 'action'),
    fc.constantFrom(IMAGE_ID, '1', 'fake-host', 'default', 'a-key', 'private', 'admin', 'demo'),
    fc.constant('').map(() => serverId),
    fc.constant('').map(() => h.ids.demoProject),
    fc.nat().map((i) => encodeURIComponent(seen[i % Math.max(seen.length, 1)] ?? serverId)),
  );
}

/** ids and names from accepted answers (a queued image, a new key pair or group...): later path parameters */
const seen: string[] = [];
function remember(body: string): void {
  let v: unknown;
  try { v = JSON.parse(body); } catch { return; }
  const visit = (o: unknown, depth: number): void => {
    if (o === null || typeof o !== 'object' || depth > 2) return;
    for (const [k, x] of Object.entries(o)) {
      if ((k === 'id' || k === 'name') && typeof x === 'string' && !seen.includes(x)) { seen.push(x); if (seen.length > 64) seen.shift(); }
      visit(x, depth + 1);
    }
  };
  visit(v, 0);
}

const QUERY_KEYS = ['limit', 'marker', 'sort_key', 'sort_dir', 'changes-since', 'changes-before', 'name', 'status', 'all_tenants', 'deleted',
  'ip', 'host', 'project_id', 'tenant_id', 'flavor', 'image', 'tags', 'detailed', 'start', 'end', 'visibility', 'user_id', 'is_public', 'minDisk',
  'fields', 'id', ...PROTO_NAMES];

function queryString(): fc.Arbitrary<string> {
  const value = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('-1', '0', '1', '1000000000000000000000', '1e3', '0x10', 'NaN', 'true', 'desc', 'created_at', 'name', '2020-01-01T00:00:00Z', 'yesterday', ''),
    fc.string({ minLength: 300, maxLength: 3000 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.constant('').map(() => serverId),
  );
  const pair = fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 10 })), value, fc.boolean());
  return fc.array(pair, { maxLength: 6 }).map((ps) => ps.map(([k, v, raw]) => raw ? `${k}=${v.replace(/[#&\s]/g, '')}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
}

const BODY_KEYS = ['server', 'flavor', 'keypair', 'metadata', 'meta', 'tags', 'auth', 'server_group', 'quota_set', 'extra_specs', 'status',
  'os-start', 'os-stop', 'reboot', 'pause', 'createImage', 'resize', 'rebuild', 'confirmResize', 'revertResize', 'addSecurityGroup',
  'suspend', 'resume', 'lock', 'unlock', 'shelve', 'os-getConsoleOutput', 'changePassword', 'name', 'disabled_reason', 'forced_down', ...PROTO_NAMES];
const FIELD_KEYS = ['name', 'imageRef', 'flavorRef', 'networks', 'key_name', 'user_data', 'metadata', 'min_count', 'max_count', 'ram', 'vcpus',
  'disk', 'id', 'public_key', 'type', 'policies', 'policy', 'rules', 'instances', 'cores', 'adminPass', 'description', 'availability_zone',
  'security_groups', 'block_device_mapping_v2', 'op', 'path', 'value', 'identity', 'scope', 'methods', 'password', 'user', 'domain',
  'project', 'visibility', 'disk_format', 'container_format', 'protected', 'min_disk', 'min_ram', 'os-flavor-access:is_public', ...PROTO_NAMES];

function body(): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(IMAGE_ID, '1', 'auto', 'none', -1, 0, 2 ** 53, 1e308, '', 'x'.repeat(300), null, true, [], {}),
    fc.constant('').map(() => serverId),
    fc.string({ minLength: 2000, maxLength: 70_000 }),
  );
  const fields = fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_KEYS), fc.string({ maxLength: 8 })), leaf, { maxKeys: 6 });
  const known = fc.dictionary(fc.constantFrom(...BODY_KEYS), fc.oneof(fields, leaf, fc.array(fields, { maxLength: 3 })), { minKeys: 1, maxKeys: 2 });
  return fc.oneof(
    { weight: 4, arbitrary: known },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 6 }) },
    { weight: 1, arbitrary: fc.array(fc.record({ op: fc.constantFrom('add', 'replace', 'remove', 'move', 'x'), path: fc.oneof(fc.string(), fc.constantFrom('/name', '/tags/0', '/__proto__', '/visibility', '/constructor/x')), value: leaf }, { requiredKeys: ['op'] }), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const ACTIONS: unknown[] = [{ 'os-stop': null }, { 'os-start': null }, { reboot: { type: 'HARD' } }, { reboot: { type: 'SOFT' } }, { pause: null },
  { unpause: null }, { suspend: null }, { resume: null }, { lock: null }, { unlock: null }, { createImage: { name: 'snap', metadata: { k: 'v' } } },
  { resize: { flavorRef: '2' } }, { confirmResize: null }, { revertResize: null }, { rebuild: { imageRef: IMAGE_ID, name: 'r' } },
  { 'os-getConsoleOutput': { length: 10 } }, { changePassword: { adminPass: 'pw' } }, { addSecurityGroup: { name: 'default' } }, { shelve: null }];

/** valid-looking request bodies for a route (matched by path keywords), to be mutated: gets past the first checks */
function templatesFor(method: string, url: string): unknown[] {
  if (url.endsWith('/action')) return ACTIONS;
  if (url.includes('/metadata/')) return [{ meta: { 'a-key': 'v2' } }];
  if (url.includes('/metadata')) return [{ metadata: { k1: 'v1', k2: 'v2' } }];
  if (url.includes('/tags')) return [{ tags: ['a', 'b'] }, null];
  if (url.includes('os-extra_specs')) return [{ extra_specs: { 'hw:cpu_policy': 'dedicated' } }, { 'hw:cpu_policy': 'shared' }];
  if (url.includes('/flavors')) return [{ flavor: { name: 'f', ram: 512, vcpus: 1, disk: 1, id: 'fz' } }, { flavor: { description: 'd' } }];
  if (url.includes('os-keypairs')) return [{ keypair: { name: 'kp', type: 'ssh' } }, { keypair: { name: 'kp2', public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzz fuzz' } }];
  if (url.includes('os-server-groups')) return [{ server_group: { name: 'g', policies: ['anti-affinity'] } }, { server_group: { name: 'g', policy: 'affinity', rules: {} } }];
  if (url.includes('os-quota-sets')) return [{ quota_set: { instances: 20, cores: 40 } }];
  if (url.includes('os-services')) return [{ status: 'disabled', disabled_reason: 'r' }, { forced_down: true }];
  if (url.includes('auth/tokens')) return [{ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { name: 'Default' }, password: 'wrong' } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } } }];
  if (url.startsWith('/image') && method === 'PATCH') return [[{ op: 'replace', path: '/name', value: 'n' }, { op: 'add', path: '/tags', value: ['t'] }]];
  if (url.startsWith('/image')) return [{ name: 'img', disk_format: 'qcow2', container_format: 'bare', visibility: 'private', tags: ['t'] }];
  if (url.includes('/servers') && method === 'PUT') return [{ server: { name: 'renamed', description: 'd' } }];
  if (url.includes('/servers')) return [{ server: { name: 's', imageRef: IMAGE_ID, flavorRef: '1', networks: 'auto', metadata: { a: 'b' }, min_count: 1 } }];
  return [{}];
}

const DELETE = Symbol('delete');
function leafPaths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => leafPaths(x, [...prefix, k]))];
}
/** a template with up to two leaves (or subtrees) replaced by random values or removed */
function mutated(templates: unknown[]): fc.Arbitrary<unknown> {
  return fc.constantFrom(...templates).chain((t) => {
    const paths = leafPaths(t).filter((p) => p.length > 0);
    if (!paths.length) return fc.constant(t);
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...PROTO_NAMES, '', ' ', 'x'.repeat(256), -1, 0, 1.5, 2 ** 31, null, true, [], {}, DELETE), fc.string({ unit: 'grapheme', maxLength: 8 }));
    const key = fc.oneof(fc.constantFrom(...PROTO_NAMES), fc.string({ maxLength: 6 }));
    return fc.array(fc.tuple(fc.constantFrom(...paths), value, fc.option(key)), { maxLength: 2 }).map((muts) => {
      const c = structuredClone(t) as Record<string | number, unknown>;
      for (const [path, v, extra] of muts) {
        let o: unknown = c;
        for (const k of path.slice(0, -1)) o = o !== null && typeof o === 'object' ? (o as Record<string | number, unknown>)[k] : undefined;
        if (o === null || typeof o !== 'object') continue;
        const last = path[path.length - 1]!;
        const t = o as Record<string | number, unknown>;
        if (extra !== null && typeof t[last] === 'object' && t[last] !== null) (t[last] as Record<string, unknown>)[extra] = v === DELETE ? 'x' : v;
        else if (v === DELETE) delete t[last];
        else t[last] = v;
      }
      return c;
    });
  });
}

const versionHeaders = fc.oneof(
  fc.constant({} as Record<string, string>),
  fc.oneof(fc.constantFrom('2.1', '2.37', '2.90', '2.100', '3.0', '1.1', 'latest', '2.', '2.1.1', '02.1', '2.01', '9999999999999.1', ' 2.1'), fc.string({ maxLength: 12 }))
    .chain((v) => fc.constantFrom<Record<string, string>>({ 'openstack-api-version': `compute ${v}` }, { 'x-openstack-nova-api-version': v }, { 'openstack-api-version': v }, { 'openstack-api-version': `image ${v}` })),
);

function service(url: string): string {
  return url.split(/[/?#]/)[1] || 'root';
}

/** the error body the project emits for a refused request under this path (src/api/errors.ts) */
function checkErrorShape(url: string, status: number, b: unknown): string | null {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return 'not an object';
  const o = b as Record<string, unknown>;
  const svc = service(url);
  if (svc === 'compute' || svc === 'volume') {
    const keys = Object.keys(o);
    if (keys.length !== 1) return `nova shape: keys ${keys.join(',')}`;
    const inner = o[keys[0]!] as Record<string, unknown>;
    if (typeof inner !== 'object' || inner === null || inner['code'] !== status || typeof inner['message'] !== 'string') return 'nova shape: inner';
    return null;
  }
  if (svc === 'network') {
    const e = o['NeutronError'] as Record<string, unknown> | undefined;
    if (!e || typeof e['type'] !== 'string' || typeof e['message'] !== 'string' || typeof e['detail'] !== 'string') return 'neutron shape';
    return null;
  }
  const e = o['error'] as Record<string, unknown> | undefined;
  if (!e || e['code'] !== status || typeof e['message'] !== 'string' || typeof e['title'] !== 'string') return 'keystone/glance shape';
  return null;
}

before(async () => {
  h = await createHarness();
  serverId = await h.boot(h.tokens.demo, 'fuzz-target');
  await h.req(h.tokens.demo, 'POST', `/compute/v2.1/servers/${serverId}/metadata`, { metadata: { 'a-key': 'v' } });
  await h.idle();
});
after(async () => { await h.close(); });

interface Failure { route: string; problem: string; counterexample: string }
const failures: Failure[] = [];

test('fuzz: every controller route (no 5xx, service error shapes, refused requests leave the database alone)', { timeout: 240_000 }, async (t) => {
  const image = (await h.store.getImage(IMAGE_ID))!;
  // the fingerprint sees writes: an accepted create changes it, a read does not
  const fp0 = fingerprint();
  assert.equal((await h.req(h.tokens.demo, 'GET', '/compute/v2.1/os-keypairs')).statusCode, 200);
  assert.equal(fingerprint(), fp0);
  assert.equal((await h.req(h.tokens.demo, 'POST', '/compute/v2.1/os-keypairs', { keypair: { name: 'fuzz-probe' } })).statusCode, 200);
  assert.notEqual(fingerprint(), fp0);
  const routes = routeTable(h.app);
  assert.ok(routes.length > 60, `route table parsed: ${routes.length}`);
  assert.ok(routes.some((r) => r.method === 'POST' && r.url === '/compute/v2.1/servers/:id/action'));
  for (const [i, r] of routes.entries()) {
    const params = [...r.url.matchAll(/:[A-Za-z_]+/g)].map((m) => m[0]);
    const arb = fc.record({
      segs: fc.tuple(...params.map(() => segment())),
      query: queryString(),
      body: fc.oneof({ weight: 3, arbitrary: mutated(templatesFor(r.method, r.url)) }, { weight: 2, arbitrary: body() }),
      token: fc.constantFrom<'admin' | 'demo' | 'reader' | 'other' | 'none' | 'bogus'>('admin', 'demo', 'demo', 'reader', 'other', 'none', 'bogus'),
      contentType: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=latin1', 'application/JSON', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json-patch+json', '', 'application/openstack-images-v2.1-json-patch') }),
      headers: versionHeaders,
      bogus: fc.oneof(fc.constantFrom('gAAAAAbogus', '', ' ', 'x'.repeat(9000), '__proto__', 'null'), fc.string({ maxLength: 40 }).map((x) => x.replace(/[^\x20-\x7e]/g, '')), fc.constant('').map(() => `${h.tokens.demo}x`)),
      // a subject token for /auth/tokens: never a real one (revoking the fuzzer's own tokens would end the run)
      subject: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', 'gAAAA', 'x'.repeat(5000)), fc.constant('').map(() => `${h.tokens.demo.slice(0, -2)}zz`)) }),
      // now and then another method or one more path segment: the 404/405 answers need the service's shape too
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') }),
      suffix: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: segment() }),
      rawBody: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,2', 'null', '"x"', '\u0000', '{"server":{"name":"\\ud800"}}', HUGE) }),
    });
    const prop = fc.asyncProperty(arb, async (c) => {
      let url = r.url;
      params.forEach((p, k) => { url = url.replace(p, c.segs[k]!); });
      if (c.suffix !== null) url += `/${c.suffix}`;
      if (c.query) url += `?${c.query}`;
      const method = c.method ?? r.method;
      const headers: Record<string, string> = { ...c.headers };
      if (c.token === 'admin') headers['x-auth-token'] = h.tokens.admin;
      if (c.token === 'demo') headers['x-auth-token'] = h.tokens.demo;
      if (c.token === 'reader') headers['x-auth-token'] = h.tokens.reader;
      if (c.token === 'other') headers['x-auth-token'] = h.tokens.other;
      if (c.token === 'bogus') headers['x-auth-token'] = c.bogus;
      if (c.subject !== null) headers['x-subject-token'] = c.subject;
      const sendsBody = method !== 'GET' && method !== 'DELETE' && method !== 'OPTIONS';
      let payload: string | undefined;
      if (sendsBody && c.rawBody !== null) payload = c.rawBody;
      else if (sendsBody && c.body !== undefined) payload = JSON.stringify(c.body);
      if (payload !== undefined) {
        headers['content-type'] = r.url.endsWith('/file') ? 'application/octet-stream'
          : r.method === 'PATCH' && r.url.startsWith('/image') ? 'application/openstack-images-v2.1-json-patch' : 'application/json';
        if (c.contentType !== null) headers['content-type'] = c.contentType;
      }
      const fp = fingerprint();
      const res = await h.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
      // a readiness probe answers 503 while the controller does not listen (inject): its answer, not a fault (not counted)
      if (res.statusCode === 503 && new URL(`http://localhost${url}`).pathname === '/readyz') return;
      count(service(url), res.statusCode);
      if (res.statusCode >= 500) throw new Error(`${res.statusCode} ${res.body.slice(0, 300)}`);
      if (res.statusCode >= 400) {
        let parsed: unknown;
        try { parsed = JSON.parse(res.body); } catch { throw new Error(`${res.statusCode}: body is not JSON: ${res.body.slice(0, 200)}`); }
        // the path as the server sees it: inject (like any WHATWG client) resolves dot segments such as %2e%2e
        const shape = checkErrorShape(new URL(`http://localhost${url}`).pathname, res.statusCode, parsed);
        if (shape) throw new Error(`${res.statusCode}: wrong error shape (${shape}): ${res.body.slice(0, 300)}`);
        const after = fingerprint();
        if (after !== fp) throw new Error(`${res.statusCode} changed the database: ${fp} -> ${after}: ${res.body.slice(0, 200)}`);
      } else if (method !== 'GET') {
        if (res.statusCode < 300) remember(res.body);
        await h.idle();
      }
    });
    const out = await fc.check(prop, { seed: SEED + i, numRuns: RUNS, endOnFailure: false });
    if (out.failed) {
      failures.push({ route: `${r.method} ${r.url}`, problem: String((out.errorInstance as Error | undefined)?.message ?? out.errorInstance).slice(0, 500), counterexample: fc.stringify(out.counterexample).slice(0, 800) });
    }
    // a deleted fuzz target: boot another so later routes still meet a real server
    // (and the image it boots from, which an admin DELETE may have removed)
    if (!(await h.store.getImage(IMAGE_ID))) await h.store.createImage(image);
    if (!(await h.store.getServer(serverId))) { serverId = await h.boot(h.tokens.demo, 'fuzz-target'); }
    await h.idle();
  }
  t.diagnostic(`api fuzz: seed ${SEED}, ${RUNS} runs per route, ${routes.length} routes, ${counts.requests} requests`);
  t.diagnostic(`by class ${JSON.stringify(counts.byClass)}; by service ${JSON.stringify(counts.byService)}`);
  console.log(`api fuzz: seed ${SEED} runs ${RUNS} routes ${routes.length} requests ${counts.requests} by class ${JSON.stringify(counts.byClass)} by service ${JSON.stringify(counts.byService)}`);
  assert.deepEqual(failures, [], failures.map((f) => `${f.route}: ${f.problem}\n  ${f.counterexample}`).join('\n'));
});

test('fuzz: agent RPC (typed error codes, no 5xx)', { timeout: 120_000 }, async (t) => {
  const SECRET = 'fuzz-secret-0123456789abcdef';
  let ah: AgentHarness | null = null;
  let rpc: FastifyInstance | null = null;
  try {
    ah = await agentHarness();
    rpc = createRpcServer({ backend: agentBackend(ah.agent), secret: SECRET, log: silentLog });
    await rpc.ready();
    const auth = { authorization: `Bearer ${SECRET}`, [HEADER_PROTOCOL]: PROTOCOL };
    const target = uuid();
    const boot = await rpc.inject({ method: 'POST', url: '/v1/operations?wait=10', headers: auth, payload: { requestId: 'req-fuzz-spawn', serverUuid: target, kind: 'spawn', params: spawnParams(target, ah.imageFile) } });
    assert.equal(boot.statusCode, 202, boot.body);
    const journal = ah.agent.deps.journal;
    /** the agent journal's operation rows: a refused request must not add one */
    const opsCount = () => (journal.db.prepare('SELECT COUNT(*) AS n FROM operations').get() as { n: number }).n;
    const routes = routeTable(rpc);
    assert.ok(routes.length >= 6, `rpc routes: ${routes.length}`);
    const rpcCounts: Record<string, number> = {};
    const problems: string[] = [];
    const param = fc.oneof(fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constantFrom(target, ...PROTO_NAMES, '%zz', 'op-1', 'req-fuzz-spawn'), fc.string({ minLength: 200, maxLength: 1000 }).map(encodeURIComponent));
    const submit = fc.record({
      requestId: fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('req-fuzz-spawn', '__proto__')),
      serverUuid: fc.oneof(fc.constant(target), fc.uuid(), fc.string({ maxLength: 40 })),
      kind: fc.oneof(fc.constantFrom(...OPERATION_KINDS), fc.constantFrom(...PROTO_NAMES), fc.string({ maxLength: 12 })),
      params: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant({}), fc.dictionary(fc.constantFrom('hard', 'timeoutSec', 'spec', 'disk', 'nic', 'target', 'portId', 'image', 'vcpus', 'memoryMiB', 'imageId', ...PROTO_NAMES), fc.jsonValue({ maxDepth: 2 }))),
    }, { requiredKeys: [] });
    // well-formed submissions per kind, mutated, so that generated requests also get past the schema
    const fresh = uuid();
    const paramTemplates: Record<string, unknown> = {
      spawn: spawnParams(fresh, ah.imageFile), stop: { timeoutSec: 0 }, reboot: { hard: true }, attach_disk: { disk: { target: 'vdb', sizeGiB: 1 } },
      detach_disk: { target: 'vdb' }, attach_nic: { nic: { portId: 'p1', mac: 'fa:16:3e:00:00:01', attachment: { type: 'network', network: 'default' } } },
      detach_nic: { portId: 'p1' }, rebuild: { image: { id: 'img-test', source: ah.imageFile, format: 'qcow2' } },
      resize: { vcpus: 2, memoryMiB: 256 }, snapshot: { imageId: 'snap-1' },
    };
    const wellFormed = fc.tuple(fc.constantFrom(...OPERATION_KINDS), fc.uuid(), fc.constantFrom(target, fresh)).chain(([kind, rid, server]) =>
      mutated([{ requestId: `req-${rid}`, serverUuid: kind === 'spawn' ? fresh : server, kind, params: paramTemplates[kind] ?? {} }]));
    for (const [i, r] of routes.entries()) {
      const names = [...r.url.matchAll(/:[A-Za-z_]+/g)].map((m) => m[0]);
      const arb = fc.record({
        segs: fc.tuple(...names.map(() => param)),
        query: queryString().map((q) => q.replace(/(^|&)wait=[^&]*/g, '')),
        body: fc.oneof(wellFormed, submit, fc.jsonValue({ maxDepth: 4 })),
        auth: fc.constantFrom('good', 'good', 'good', 'none', 'wrong', 'oldproto'),
      });
      const out = await fc.check(fc.asyncProperty(arb, async (c) => {
        let url = r.url;
        names.forEach((p, k) => { url = url.replace(p, c.segs[k]!); });
        if (c.query) url += `?${c.query}`;
        const headers: Record<string, string> = c.auth === 'none' ? {} : c.auth === 'wrong' ? { ...auth, authorization: 'Bearer nope-nope-nope' }
          : c.auth === 'oldproto' ? { ...auth, [HEADER_PROTOCOL]: 'novalet-agent/0' } : { ...auth };
        const ops = opsCount();
        const res = await rpc!.inject({ method: r.method as 'GET', url, headers, ...(r.method === 'POST' ? { payload: JSON.stringify(c.body), headers: { ...headers, 'content-type': 'application/json' } } : {}) });
        const cls = `${Math.floor(res.statusCode / 100)}xx`;
        rpcCounts[cls] = (rpcCounts[cls] ?? 0) + 1;
        if (res.statusCode >= 500) throw new Error(`${res.statusCode} ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 400) {
          const e = (JSON.parse(res.body) as { error?: { code?: string; message?: unknown } }).error;
          if (!e || typeof e.message !== 'string' || !(e.code! in ERROR_STATUS) || ERROR_STATUS[e.code as keyof typeof ERROR_STATUS] !== res.statusCode) {
            throw new Error(`${res.statusCode}: untyped error ${res.body.slice(0, 300)}`);
          }
          if (opsCount() !== ops) throw new Error(`${res.statusCode}: a refused request recorded an operation: ${res.body.slice(0, 300)}`);
        }
      }), { seed: SEED + 1000 + i, numRuns: RUNS * 2, endOnFailure: false });
      if (out.failed) problems.push(`${r.method} ${r.url}: ${String((out.errorInstance as Error | undefined)?.message ?? out.errorInstance).slice(0, 400)}\n  ${fc.stringify(out.counterexample).slice(0, 600)}`);
    }
    const total = Object.values(rpcCounts).reduce((a, b) => a + b, 0);
    t.diagnostic(`rpc fuzz: ${routes.length} routes, ${total} requests ${JSON.stringify(rpcCounts)}`);
    console.log(`rpc fuzz: seed ${SEED} routes ${routes.length} requests ${total} by class ${JSON.stringify(rpcCounts)}`);
    assert.deepEqual(problems, [], problems.join('\n'));
  } finally {
    await rpc?.close();
    await ah?.cleanup();
  }
});

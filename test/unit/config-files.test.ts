/** Config files are checked before anything starts: the controller's (identity section included) and the agent's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadControllerFile, schedulerConfig } from '../../src/cli/controller-command.js';
import { DEFAULT_CONFIG, loadConfig } from '../../src/agent/config.js';
import { ConfigError } from '../../src/common/config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'novalet-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (body: unknown, name = 'controller.json') => {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};
/** the message after the file name */
const problem = (f: () => unknown, path: string) => {
  try { f(); } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(err.message.startsWith(`${path}: `), err.message);
    return err.message.slice(path.length + 2);
  }
  assert.fail('no error');
};

test('controller file: a valid file is returned as written; an empty one keeps every default', () => {
  const body = {
    dataDir: '/tmp/c', listen: '127.0.0.1:8774', publicUrl: 'http://10.0.0.5:8774', secretFile: '/etc/s',
    agents: [{ url: 'http://10.0.0.6:8779' }, { url: 'https://10.0.0.7:8779', local: false, ca: '/etc/ca.pem' }],
    networks: [{ id: 'n1', name: 'private', cidr: '10.0.0.0/24', gateway: '10.0.0.1', subnetId: 's1', libvirtNetwork: 'novalet-private' }],
    scheduler: { cpuAllocationRatio: 5 }, heartbeatIntervalSeconds: 10, reclaimIntervalSeconds: 0, tokenTtlSeconds: 3600,
    serviceDownTimeSeconds: 60, region: 'RegionOne', logLevel: 'debug', database: 'postgres://novalet:pw@db.example:5432/novalet', imageDir: '/srv/shared/images', controllerId: 'ctl-1',
    identity: { projects: [{ name: 'web' }], users: [{ name: 'alice', password: 'pw', project: 'web', roles: ['member'] }] },
  };
  assert.deepEqual(loadControllerFile(file(body)), body);
  assert.deepEqual(loadControllerFile(file({})), {});
});

test('controller file: the scheduler strategy sets the weighers\' signs, single multipliers override it', () => {
  const f = loadControllerFile(file({ scheduler: { strategy: 'pack', weighers: { disk: 0 }, ramAllocationRatio: 1.5 } }));
  const c = schedulerConfig(f.scheduler!);
  assert.deepEqual(c.weighers, { ram: -1, cpu: -1, disk: 0 });
  assert.equal(c.ramAllocationRatio, 1.5);
  assert.equal(c.cpuAllocationRatio, 4, 'the rest from the defaults');
  assert.deepEqual(schedulerConfig({}).weighers, { ram: 1, cpu: 1, disk: 1 }, 'spread by default, as Nova');
  assert.throws(() => loadControllerFile(file({ scheduler: { strategy: 'fill' } })), /\/scheduler\/strategy: expected one of "spread", "pack"/);
});

test('controller file: a wrong type, a bad value, an unknown key and a missing key are named with the value', () => {
  const cases: Array<[unknown, string]> = [
    [{ agents: [{ url: 42 }] }, '/agents/0/url: expected string, got 42'],
    [{ agents: [{ url: 'http://a', lcoal: true }] }, '/agents/0/lcoal: unknown key'],
    [{ listenn: '0.0.0.0:8774' }, '/listenn: unknown key'],
    [{ agents: [{}] }, '/agents/0/url: required key missing'],
    [{ tokenTtlSeconds: '3600' }, '/tokenTtlSeconds: expected number, got "3600"'],
    [{ scheduler: { cpuAllocationRatio: 0 } }, '/scheduler/cpuAllocationRatio: expected number to be greater than 0, got 0'],
    [{ scheduler: { cpuRatio: 2 } }, '/scheduler/cpuRatio: unknown key'],
    [{ logLevel: 'verbose' }, '/logLevel: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose"'],
    [{ identity: { users: [{ name: 'a', password: 'pw', roles: ['owner'] }] } }, '/identity/users/0/roles/0: expected one of "admin", "member", "reader", got "owner"'],
    [{ identity: { users: [{ name: 'a', password: 'pw', roles: ['admin'] }] } }, '/identity/users/0/roles: roles need a "project"'],
    [{ identity: { users: [{ name: 'a', password: '   ' }] } }, "/identity/users/0/password: expected string to match '\\S', got a string (hidden)"],
    [[], '/: expected object, got []'],
    [{ database: 'postgres://db.example:5432' }, '/database: a PostgreSQL URL must name the database (postgres://user@host:port/DATABASE)'],
    [{ database: 'postgresql://a b@:x/db' }, '/database: not a valid PostgreSQL URL (postgres://user:password@host:port/database)'],
  ];
  for (const [body, msg] of cases) {
    const p = file(body);
    assert.equal(problem(() => loadControllerFile(p), p), msg, JSON.stringify(body));
  }
  const p = file('{ "agents": [ }');
  assert.match(problem(() => loadControllerFile(p), p), /^not valid JSON: /);
});

test('agent file: over the defaults, overrides win; unknown keys and wrong types refused', () => {
  assert.deepEqual(loadConfig(undefined), DEFAULT_CONFIG);
  const ok = file({ dataDir: '/tmp/a', listenPort: 9000, tls: { cert: '/c', key: '/k' }, logLevel: 'warn' }, 'agent.json');
  assert.deepEqual(loadConfig(ok, { listenPort: 9001 }), { ...DEFAULT_CONFIG, dataDir: '/tmp/a', listenPort: 9001, tls: { cert: '/c', key: '/k' }, logLevel: 'warn' });
  const cases: Array<[unknown, string]> = [
    [{ listenPrt: 9000 }, '/listenPrt: unknown key'],
    [{ listenPort: '9000' }, '/listenPort: expected integer, got "9000"'],
    [{ listenPort: 70000 }, '/listenPort: expected integer to be less or equal to 65535, got 70000'],
    [{ tls: { cert: '/c' } }, '/tls/key: required key missing'],
    [{ shutdownTimeoutSec: -1 }, '/shutdownTimeoutSec: expected number to be greater or equal to 0, got -1'],
  ];
  for (const [body, msg] of cases) {
    const p = file(body, 'agent.json');
    assert.equal(problem(() => loadConfig(p), p), msg, JSON.stringify(body));
  }
});

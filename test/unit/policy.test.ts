/** The policy engine (issue 17): oslo.policy's check language, Nova's defaults, and a policy file over them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness } from '../support/harness.js';
import { Policy, PolicyError } from '../../src/controller/policy/policy.js';
import { loadPolicyFile, parsePolicyText } from '../../src/controller/policy/file.js';
import { ACTION_POLICY } from '../../src/controller/policy/defaults.js';
import { RULES } from '../../src/controller/compute/states.js';
import { TASKS } from '../../src/controller/tasks/registry.js';

const member = { roles: ['member', 'reader'], projectId: 'p1', userId: 'u1' };
const reader = { roles: ['reader'], projectId: 'p1', userId: 'u2' };
const admin = { roles: ['admin', 'member', 'reader'], projectId: 'padmin', userId: 'u0' };

test("Nova's defaults: admin-only rules, member of the target's project, reader for quota show", () => {
  const p = new Policy();
  assert.equal(p.allowed(member, 'os_compute_api:os-migrations:index'), false);
  assert.equal(p.allowed(admin, 'os_compute_api:os-migrations:index'), true);
  assert.equal(p.allowed(member, 'os_compute_api:servers:stop', 'p1'), true);
  assert.equal(p.allowed(member, 'os_compute_api:servers:stop', 'p2'), false, "another project's server");
  assert.equal(p.allowed(admin, 'os_compute_api:servers:stop', 'p2'), true);
  assert.equal(p.allowed(reader, 'os_compute_api:servers:stop', 'p1'), false);
  assert.equal(p.allowed(reader, 'os_compute_api:os-quota-sets:show', 'p1'), true);
  assert.equal(p.allowed(admin, 'no:such:rule'), false, 'an unknown rule is refused');
  assert.throws(() => p.enforce(member, 'os_compute_api:os-evacuate'), { message: "Policy doesn't allow os_compute_api:os-evacuate to be performed." });
});

test('check language: and/or/not, parentheses, @ and !, literals; a bad rule is named', () => {
  const p = new Policy({
    a: 'role:member and not role:admin', b: '(role:reader or role:x) and project_id:%(project_id)s', c: '@', d: '!', e: '',
    f: 'is_admin:True', g: 'user_id:%(user_id)s',
  });
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((r) => p.allowed(member, r)), [true, true, true, false, true, false, true]);
  assert.deepEqual(['a', 'f'].map((r) => p.allowed(admin, r)), [false, true]);
  assert.equal(p.allowed(member, 'b', 'p2'), false);
  assert.throws(() => new Policy({ broken: 'role:admin or (role:member' }), (e: unknown) => e instanceof PolicyError && /"broken".*missing '\)'/.test((e as Error).message));
  assert.throws(() => new Policy({ broken2: 'role:admin and' }), /"broken2"/);
  assert.throws(() => new Policy({ broken3: 'admin' }), /"broken3".*not a check/);
});

test("policy files in Nova's policy.yaml form (and JSON); a bad line is named", () => {
  const yaml = `# comments are kept out\n"os_compute_api:os-migrations:index": "role:member"\n'os_compute_api:servers:stop': '!'  # never\nplain_rule: rule:admin_api\n`;
  assert.deepEqual(parsePolicyText(yaml), { 'os_compute_api:os-migrations:index': 'role:member', 'os_compute_api:servers:stop': '!', plain_rule: 'rule:admin_api' });
  assert.deepEqual(parsePolicyText('{"a": "role:x"}'), { a: 'role:x' });
  assert.throws(() => parsePolicyText('"a": "role:x"\nnot a rule line\n', 'policy.yaml'), /policy.yaml:2: expected "rule": "check"/);
  assert.throws(() => parsePolicyText('{"a": 1}', 'p.json'), /p.json: rule "a": expected a string/);
  const dir = mkdtempSync(join(tmpdir(), 'novalet-policy-'));
  writeFileSync(join(dir, 'bad.yaml'), '"os_compute_api:servers:stop": "role:member or"\n');
  assert.throws(() => loadPolicyFile(join(dir, 'bad.yaml')), /os_compute_api:servers:stop/);
  rmSync(dir, { recursive: true, force: true });
});

test('a policy file changes what the API allows: a member may list migrations, nobody may stop a server', async () => {
  const policy = new Policy(parsePolicyText('"os_compute_api:os-migrations:index": "role:member"\n"os_compute_api:servers:stop": "!"\n'));
  const h = await createHarness({ policy });
  try {
    assert.equal((await h.req(h.tokens.demo, 'GET', '/compute/v2.1/os-migrations')).statusCode, 200);
    const id = await h.boot(h.tokens.demo);
    for (const token of [h.tokens.demo, h.tokens.admin]) {
      const r = await h.req(token, 'POST', `/compute/v2.1/servers/${id}/action`, { 'os-stop': null });
      assert.equal(r.statusCode, 403);
      assert.deepEqual(r.json(), { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:servers:stop to be performed." } });
    }
    const s = (await h.req(h.tokens.demo, 'GET', `/compute/v2.1/servers/${id}`)).json().server;
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:task_state'], null, 'a refused action changes nothing');
    // the defaults still hold where the file says nothing
    assert.equal((await h.req(h.tokens.demo, 'POST', `/compute/v2.1/servers/${id}/action`, { 'os-resetState': { state: 'error' } })).statusCode, 403);
  } finally {
    await h.close();
  }
});

test('every action of the server state machine has a registered policy rule (an unknown one would refuse everybody)', () => {
  const p = new Policy();
  const taskRules = Object.values(TASKS).flatMap((t) => ('rule' in t && t.rule ? [t.rule as { name: string }] : []));
  for (const rule of [...Object.values(RULES), ...taskRules]) {
    const name = ACTION_POLICY[rule.name];
    assert.ok(name, `action ${rule.name} has no policy rule`);
    assert.equal(p.allowed(admin, name, 'p1'), true, `${name}: admin refused`);
  }
});

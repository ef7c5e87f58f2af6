/** Issue 17's defects: hostile input gets the service's own 4xx (never a 500, a stack or a stalled controller). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from '../support/harness.js';

const C = '/compute/v2.1';
let h: Harness;
before(async () => { h = await createHarness(); });
after(async () => { await h.close(); });

/** Nova's 400 body */
function assertNova400(r: { statusCode: number; json(): any; body: string }, what: string): void {
  assert.equal(r.statusCode, 400, `${what}: ${r.statusCode} ${r.body}`);
  assert.equal(r.json().badRequest?.code, 400, `${what}: ${r.body}`);
}

test('sort_key naming an Object.prototype member -> 400 (servers and flavors)', async () => {
  for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    for (const path of ['servers', 'servers/detail', 'flavors', 'flavors/detail']) {
      assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/${path}?sort_key=${key}`), `${path} sort_key=${key}`);
    }
  }
  // ordinary keys still work
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/flavors?sort_key=name&sort_dir=desc`)).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/servers?sort_key=display_name`)).statusCode, 200);
});

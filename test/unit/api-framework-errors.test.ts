/**
 * Errors that fastify or Node's HTTP parser answer before any route runs (issue 17): long path parameters,
 * undecodable URLs, raw invalid bytes, oversized headers and bodies, unknown routes. Each gets the service's
 * own error body (Nova, Keystone, Glance, Neutron, Cinder), never fastify's; parser errors close the connection
 * and send no body to a HEAD. These need a listening server: app.inject() bypasses Node's parser.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createHarness, type Harness } from '../support/harness.js';
import { errorBodyFor } from '../../src/api/errors.js';

let h: Harness;
let port = 0;
before(async () => {
  h = await createHarness();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  port = (h.app.server.address() as { port: number }).port;
});
after(async () => { await h.close(); });

interface Raw { status: number; headers: Record<string, string>; body: string; }

/** one request as raw bytes; the answer as the server wrote it (read until the server closes or 1 s passes) */
function raw(data: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) { const i = l.indexOf(':'); headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim(); }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    };
    const timer = setTimeout(() => { s.destroy(); done(); }, 1000);
    s.on('data', (d) => chunks.push(d));
    s.on('close', done);
    s.on('error', (e) => (chunks.length ? undefined : reject(e)));
    s.write(data);
  });
}
const request = (method: string, path: string | Buffer, extra = '') => Buffer.concat([
  Buffer.from(`${method} `), Buffer.isBuffer(path) ? path : Buffer.from(path),
  Buffer.from(` HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${h.tokens.demo}\r\nConnection: close\r\n${extra}\r\n`),
]);

/** the body is the service's error shape with `status` */
function assertShape(r: Raw, service: 'nova' | 'keystone' | 'neutron', status: number): void {
  assert.equal(r.status, status, `${r.status} ${r.body}`);
  const b = JSON.parse(r.body);
  assert.doesNotMatch(r.body, /FST_|statusCode|Client Error/);
  if (service === 'nova') { const [inner] = Object.values(b) as any[]; assert.equal(Object.keys(b).length, 1); assert.equal(inner.code, status); assert.equal(typeof inner.message, 'string'); }
  if (service === 'keystone') { assert.equal(b.error.code, status); assert.equal(typeof b.error.message, 'string'); }
  if (service === 'neutron') { assert.equal(typeof b.NeutronError.type, 'string'); assert.equal(typeof b.NeutronError.message, 'string'); }
}

test('a key pair with a 150-character name can be shown and deleted (path parameters up to 1024 characters)', async () => {
  const name = 'k'.repeat(150);
  const c = await h.req(h.tokens.demo, 'POST', '/compute/v2.1/os-keypairs', { keypair: { name } });
  assert.equal(c.statusCode, 200, c.body);
  assert.equal((await h.req(h.tokens.demo, 'GET', `/compute/v2.1/os-keypairs/${name}`)).json().keypair.name, name);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `/compute/v2.1/os-keypairs/${name}`)).statusCode, 202);
  // past the limit: still the service's own body
  assertShape(await raw(request('GET', `/compute/v2.1/os-keypairs/${'k'.repeat(2000)}`)), 'nova', 414);
  assertShape(await raw(request('GET', `/image/v2/images/${'k'.repeat(2000)}`)), 'keystone', 414);
});

test('an undecodable URL (%E0%A4%A) -> 400 in the service shape', async () => {
  assertShape(await raw(request('GET', '/compute/v2.1/servers/%E0%A4%A')), 'nova', 400);
  assertShape(await raw(request('GET', '/identity/v3/users/%E0%A4%A')), 'keystone', 400);
  assertShape(await raw(request('GET', '/network/v2.0/networks/%E0%A4%A')), 'neutron', 400);
});

test('parser errors (raw invalid bytes, bad method, headers too large) -> the service shape, Connection: close, no body on HEAD', async () => {
  const bad = Buffer.concat([Buffer.from('/compute/v2.1/servers/'), Buffer.from([0x00, 0xff])]);
  let r = await raw(request('GET', bad));
  assertShape(r, 'nova', 400);
  assert.equal(r.headers.connection, 'close');
  r = await raw(request('GET', '/compute/v2.1/servers', `X-Big: ${'a'.repeat(20000)}\r\n`));
  assertShape(r, 'nova', 431);
  assert.equal(r.headers.connection, 'close');
  assertShape(await raw(request('GET', '/network/v2.0/networks', `X-Big: ${'a'.repeat(20000)}\r\n`)), 'neutron', 431);
  assertShape(await raw(request('GET', '/identity/v3', `X-Big: ${'a'.repeat(20000)}\r\n`)), 'keystone', 431);
  r = await raw(request('HEAD', '/compute/v2.1/servers', `X-Big: ${'a'.repeat(20000)}\r\n`));
  assert.equal(r.status, 431);
  assert.equal(r.body, '');
  assertShape(await raw(request('FOO', '/compute/v2.1/servers')), 'nova', 400);
  assertShape(await raw(request('POST', '/volume/v3/x/volumes', 'Content-Length: abc\r\n')), 'nova', 400);
});

test('unknown routes and bodies too large -> the service shape', async () => {
  assertShape(await raw(request('GET', '/compute/v2.1/nope')), 'nova', 404);
  assertShape(await raw(request('GET', '/nope')), 'keystone', 404);
  assertShape(await raw(request('GET', '/network/v2.0/nope')), 'neutron', 404);
  assertShape(await raw(request('GET', '/volume/v3/x/nope/a/b')), 'nova', 404);
  // a body that fails to parse outside every service (content is parsed before the 404)
  assertShape(await raw(request('POST', '/nope', 'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{x')), 'keystone', 400);
  const big = JSON.stringify({ server: { name: 'x'.repeat(2 * 1024 * 1024) } });
  // (the request's closing CRLF follows the body: the connection closes before it is read)
  assertShape(await raw(request('POST', '/compute/v2.1/servers', `Content-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`)), 'nova', 413);
});

test('errorBodyFor: the service by the first path segment, query and fragment aside', () => {
  assert.deepEqual(errorBodyFor('/compute?x=1')(400, 'm'), { badRequest: { code: 400, message: 'm' } });
  assert.deepEqual(errorBodyFor('/volume/v3/p')(404, 'm'), { itemNotFound: { code: 404, message: 'm' } });
  assert.deepEqual(errorBodyFor('/network#f')(414, 'm'), { NeutronError: { type: 'HTTPRequestURITooLong', message: 'm', detail: '' } });
  assert.deepEqual(errorBodyFor('/image/v2')(431, 'm'), { error: { code: 431, message: 'm', title: 'Request Header Fields Too Large' } });
  assert.deepEqual(errorBodyFor('/computer')(400, 'm'), { error: { code: 400, message: 'm', title: 'Bad Request' } });
});

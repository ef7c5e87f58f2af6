/** Mutual TLS between controller and agent with the certificates `novalet pki` makes (issue 17). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentClient, RpcError } from '../../src/rpc/client.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { initPki, issueAgentCert } from '../../src/cli/pki.js';
import { harness, silentLog } from './agent-doubles.js';

test('mTLS: only a client certificate from the cluster CA is served (the secret is not enough); probes stay open; pki is idempotent', async () => {
  const h = await harness();
  const dir = join(h.dir, 'pki');
  const { ca, controller } = await initPki(dir);
  const agentCert = await issueAgentCert(dir, { name: 'host1', ips: ['127.0.0.1'] });
  // a second run changes nothing (an operator may run set-up twice)
  const before = readFileSync(controller.cert, 'utf8');
  await initPki(dir);
  await issueAgentCert(dir, { name: 'host1', ips: ['127.0.0.1'] });
  assert.equal(readFileSync(controller.cert, 'utf8'), before);
  assert.equal(statSync(controller.key).mode & 0o777, 0o600);
  // the CLI makes the same files
  const cli = await execa('node', ['bin/novalet.js', 'pki', 'issue', '--dir', dir, '--agent', 'host2', '--ip', '127.0.0.1,10.0.0.2', '--dns', 'host2.example']);
  const out = JSON.parse(cli.stdout) as { cert: string };
  const text = (await execa('openssl', ['x509', '-in', out.cert, '-noout', '-text'])).stdout;
  assert.match(text, /IP Address:127\.0\.0\.1, IP Address:10\.0\.0\.2, DNS:host2\.example/);
  assert.match(text, /TLS Web Server Authentication/);
  // another CA: its client certificate must not be accepted
  const other = await initPki(join(h.dir, 'other-pki'));

  const secret = 'test-secret-0123456789abcdef';
  const probes = { ready: async () => true, metrics: async () => '' };
  const app = createRpcServer({ backend: agentBackend(h.agent), secret, log: silentLog, tls: { cert: agentCert.cert, key: agentCert.key, clientCa: ca }, probes });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const caPem = readFileSync(ca);
    const good = new AgentClient({ url, secret: 'not-the-secret-at-all', ca: caPem, cert: readFileSync(controller.cert), key: readFileSync(controller.key) });
    assert.deepEqual((await good.listServers()).servers, []);
    const noCert = new AgentClient({ url, secret, ca: caPem });
    await assert.rejects(noCert.listServers(), (e: unknown) => e instanceof RpcError && e.code === 'unauthorized' && e.status === 401);
    const foreign = new AgentClient({ url, secret, ca: caPem, cert: readFileSync(other.controller.cert), key: readFileSync(other.controller.key) });
    await assert.rejects(foreign.listServers(), (e: unknown) => e instanceof RpcError && e.code === 'unauthorized');
    const healthz = await noCert.raw('GET', '/healthz');
    assert.equal(healthz.status, 200);
  } finally {
    await app.close();
    await h.cleanup();
  }
});

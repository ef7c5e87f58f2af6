import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentClient, RpcError } from '../../src/rpc/client.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { harness, silentLog } from './agent-doubles.js';

test('rpc over TLS: a client trusting the CA works; one without it is unavailable, never silently insecure', async () => {
  const h = await harness();
  const cert = join(h.dir, 'cert.pem');
  const key = join(h.dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const secret = 'test-secret-0123456789abcdef';
  const app = createRpcServer({ backend: agentBackend(h.agent), secret, log: silentLog, tls: { cert, key } });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const good = new AgentClient({ url, secret, ca: readFileSync(cert) });
    assert.deepEqual((await good.listServers()).servers, []);
    const untrusting = new AgentClient({ url, secret });
    await assert.rejects(untrusting.listServers(), (e: unknown) => e instanceof RpcError && e.code === 'unavailable');
  } finally {
    await app.close();
    await h.cleanup();
  }
});

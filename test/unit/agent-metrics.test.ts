import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentClient } from '../../src/rpc/client.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { harness, silentLog, spawnParams, uuid } from './agent-doubles.js';

const SECRET = 'test-secret-metrics-0123456789';

test('agent: /metrics, /healthz and /readyz on the RPC listener without the secret; operations and libvirt calls measured', async () => {
  const metrics = new AgentMetrics();
  const h = await harness({}, undefined, { metrics });
  let up = true;
  const app = createRpcServer({
    backend: agentBackend(h.agent), secret: SECRET, log: silentLog,
    probes: { ready: async () => up, metrics: () => metrics.text() },
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const client = new AgentClient({ url, secret: SECRET });
    const ok = uuid();
    assert.equal((await client.run('spawn', ok, spawnParams(ok, h.imageFile), { timeoutMs: 10_000 })).state, 'succeeded');
    h.hv.faults.failNext('start', new Error('injected start failure'));
    const bad = uuid();
    const failed = await client.run('spawn', bad, spawnParams(bad, h.imageFile), { timeoutMs: 10_000 });
    assert.notEqual(failed.state, 'succeeded');

    // no Authorization header, no protocol header
    const m = await fetch(`${url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const t = await m.text();
    assert.match(t, /^novalet_agent_operation_duration_seconds_count\{kind="spawn",state="succeeded"\} 1$/m);
    assert.match(t, new RegExp(`^novalet_agent_operation_duration_seconds_count\\{kind="spawn",state="${failed.state}"\\} 1$`, 'm'));
    assert.match(t, /^novalet_agent_libvirt_call_duration_seconds_count\{method="start"\} 2$/m);
    assert.match(t, /^novalet_agent_libvirt_call_errors_total\{method="start"\} 1$/m);
    assert.match(t, /^novalet_agent_event_loop_delay_p99_seconds \d/m);
    assert.ok(!t.includes(SECRET));

    const live = await fetch(`${url}/healthz`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'ok' });
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    up = false;
    const down = await fetch(`${url}/readyz`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'not ready' });
    // every other route still needs the secret
    assert.equal((await fetch(`${url}/v1/servers`)).status, 401);
    assert.equal((await fetch(`${url}/metricsx`)).status, 401);
  } finally {
    await app.close();
    metrics.close();
    await h.cleanup();
  }
});

test('agent: without probes (the simulated hosts) the probe paths are ordinary unauthenticated requests: 401', async () => {
  const h = await harness();
  const app = createRpcServer({ backend: agentBackend(h.agent), secret: SECRET, log: silentLog });
  try {
    for (const url of ['/metrics', '/healthz', '/readyz']) assert.equal((await app.inject({ method: 'GET', url })).statusCode, 401);
  } finally { await app.close(); await h.cleanup(); }
});

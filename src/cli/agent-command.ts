import type { Server } from 'node:net';
import { pino, type Logger } from 'pino';
import { Agent } from '../agent/agent.js';
import { agentPaths, loadConfig, readSecret, type AgentConfig } from '../agent/config.js';
import { ctlSocketPath, startCtlServer } from '../agent/ctl/server.js';
import { agentBackend } from '../agent/rpc-backend.js';
import { HostNetworkDriver } from '../agent/network/host-driver.js';
import { hostExec } from '../agent/network/host-exec.js';
import { AgentMetrics } from '../agent/metrics.js';
import { createRpcServer } from '../rpc/server.js';
import { LibvirtHypervisor } from '../virt/libvirt-hypervisor/index.js';
import { exitOnSignals } from './shutdown.js';
import { parseArgs, parseListen, str } from './args.js';

export const AGENT_USAGE = `usage: novalet agent [--config FILE] [--data-dir DIR] [--run-dir DIR] [--listen ADDR:PORT]
                     [--secret-file FILE] [--libvirt-uri URI] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--log-level LEVEL]`;

/**
 * `novalet agent`: the host agent process. Start order matters: recover interrupted operations against
 * libvirt first, then accept RPC work, so a controller never sees half-finished state as current.
 * SIGTERM/SIGINT stop accepting work and exit without touching guests (they keep running; operations
 * still in flight are finished by the next start's reconciliation).
 */
export async function agentCommand(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv);
  if (flags['help']) { console.log(AGENT_USAGE); return; }
  const over: Partial<AgentConfig> = {};
  if (str(flags, 'data-dir')) over.dataDir = str(flags, 'data-dir')!;
  if (str(flags, 'run-dir')) over.runDir = str(flags, 'run-dir')!;
  if (str(flags, 'secret-file')) over.secretFile = str(flags, 'secret-file')!;
  if (str(flags, 'libvirt-uri')) over.libvirtUri = str(flags, 'libvirt-uri')!;
  if (str(flags, 'log-level')) over.logLevel = str(flags, 'log-level')!;
  if (str(flags, 'listen')) { const l = parseListen(str(flags, 'listen')!); over.listenHost = l.host; over.listenPort = l.port; }
  if (str(flags, 'tls-cert') && str(flags, 'tls-key')) {
    over.tls = { cert: str(flags, 'tls-cert')!, key: str(flags, 'tls-key')!, ...(str(flags, 'tls-client-ca') ? { clientCa: str(flags, 'tls-client-ca')! } : {}) };
  }
  const config = loadConfig(str(flags, 'config'), over);
  const secret = readSecret(config);
  const log = pino({ level: config.logLevel, base: { svc: 'novalet-agent', pid: process.pid } });

  const running = await startAgentProcess(config, secret, log);
  exitOnSignals(log, 'agent (guests keep running)', () => running.close());
}

export interface AgentProcess { agent: Agent; url: string; close(): Promise<void>; }

/** libvirt connection + agent (reconciled) + RPC server + ctl socket; `novalet up` runs the same in its process */
export async function startAgentProcess(config: AgentConfig, secret: string, log: Logger): Promise<AgentProcess> {
  const libvirt = new LibvirtHypervisor({ uri: config.libvirtUri });
  const metrics = new AgentMetrics({ defaultMetrics: true });
  // every libvirt call timed (src/virt stays free of metrics); readiness asks libvirt directly, untimed
  const hv = metrics.instrument(libvirt);
  // tenant networks are realised in the agent's own network namespace (a testbed host's, or the machine's)
  const networkDriver = new HostNetworkDriver({ exec: hostExec(), stateDir: agentPaths(config.dataDir).networks, log });
  const agent = await Agent.create({ hv, config, log, onOperationFinished: metrics.operationFinished, networkDriver });
  const recovered = await agent.start();
  if (recovered.length) log.info({ recovered }, `reconciled ${recovered.length} interrupted operation(s)`);

  const probes = { ready: () => libvirt.hostInfo().then(() => true), metrics: () => metrics.text() };
  const rpc = createRpcServer({ backend: agentBackend(agent), secret, log, tls: config.tls, probes });
  await rpc.listen({ host: config.listenHost, port: config.listenPort });
  const addr = rpc.server.address() as { address: string; port: number };
  let ctl: Server | undefined;
  try {
    ctl = await startCtlServer(agent, config.runDir);
  } catch (err) {
    log.error({ err, runDir: config.runDir }, 'ctl socket unavailable; continuing without it');
  }
  log.info({ host: addr.address, port: addr.port, tls: !!config.tls, ctl: ctl ? ctlSocketPath(config.runDir) : null, dataDir: config.dataDir }, 'agent ready');
  const host = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
  return {
    agent, url: `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    async close() {
      ctl?.close();
      await rpc.close().catch(() => undefined);
      await agent.stop();
      // give short operations a moment; anything longer is re-driven by the next start
      await Promise.race([agent.runner.idle(), new Promise((r) => setTimeout(r, 5000))]);
      await hv.close().catch(() => undefined);
      agent.close();
      metrics.close();
    },
  };
}

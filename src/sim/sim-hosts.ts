/**
 * Simulated hosts: many agents in one process, for measuring the controller with a thousand hosts on one
 * machine. Each host is a real `Agent` (journal, runner, reconcile, power sync, inventory) on the fake
 * hypervisor with its own identity (hostname sim-0001.., host uuid, data dir) and its own TCP port, and
 * every request goes through the real RPC server (src/rpc/server.ts: secret, protocol header, request ids,
 * schemas, error bodies) and the real backend (src/agent/rpc-backend.ts). A client cannot tell a sim host
 * from a real agent by URL, path, header or body.
 *
 * One fastify instance per host costs ~4 MiB and ~85 ms to build (measured: 100 and 300 instances on this
 * 2-core machine), i.e. 4 GiB and 85 s for 1,000 hosts. So one RPC server is built and its request handler
 * (`app.routing`) is shared by one plain http.Server per host; a last preHandler hook picks the host by the
 * local port the request came in on. Fastify runs a synchronous hook and then the route handler in the same
 * tick, and every route calls the backend first thing, so the host chosen by the hook is the one the call
 * goes to; the dispatcher takes it exactly once and refuses a call without one rather than guess.
 *
 * Sim hosts serve no /healthz, /readyz or /metrics (createRpcServer without `probes`): the server is shared, and
 * per-host agent metrics would measure the simulation (src/agent/metrics.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import si from 'systeminformation';
import { createRpcServer } from '../rpc/server.js';
import type { AgentBackend } from '../rpc/backend.js';
import { AgentError } from '../rpc/errors.js';
import type { HostInfo } from '../virt/hypervisor.js';
import { FakeHypervisor } from '../virt/fake/index.js';
import { Agent } from '../agent/agent.js';
import { agentPaths, DEFAULT_CONFIG, type AgentConfig } from '../agent/config.js';
import { agentBackend } from '../agent/rpc-backend.js';
import { ctlSocketPath, startCtlServer } from '../agent/ctl/server.js';
import { SimDiskTool, SimImageCache } from './sim-storage.js';

export interface SimHostsOptions {
  count: number;
  /** host i listens on basePort + i; 0 = ephemeral ports */
  basePort: number;
  listenHost?: string;
  /** the cluster secret every host checks */
  secret: string;
  /** parent of the per-host data dirs (journal, instance descriptors); default a new temp dir, removed on close */
  dataRoot?: string;
  /** hostnames are `${prefix}${index padded to 4}`; default 'sim-' */
  namePrefix?: string;
  /** what each fake host reports (cpus, memory); hostname and uuid are set per host */
  hostInfo?: Partial<HostInfo>;
  /** agent config over the real defaults (data dir and secret are set per host) */
  agent?: Partial<AgentConfig>;
  /** libvirt networks every host has (NICs of spawned servers plug into them); default the controller's default network 'private' and libvirt's 'default' */
  networks?: string[];
  /** fake guests' ACPI delay; default 10 ms as the fake hypervisor */
  acpiDelayMs?: number;
  log?: Logger;
  /** collect each host's inventory once at start (the first heartbeat costs ~25 ms of systeminformation); default true */
  warm?: boolean;
  /** hosts created at a time while starting; default 16 */
  startConcurrency?: number;
  /** each host's operator socket `<dataRoot>/<host>/run/ctl.sock` for `novalet ctl`; default true */
  ctlSockets?: boolean;
}

export interface SimHost {
  index: number;
  name: string;
  hostUuid: string;
  port: number;
  url: string;
  agent: Agent;
  hv: FakeHypervisor;
  /** `novalet ctl --socket <this>` talks to this host, as to a real agent's operator socket */
  ctlSocket: string | null;
  ctl: net.Server | null;
}

export interface SimHosts {
  hosts: SimHost[];
  secret: string;
  /** the one RPC server whose handler every host port shares */
  rpc: FastifyInstance;
  close(): Promise<void>;
}

export const SIM_HOST_DEFAULTS: Partial<HostInfo> = {
  cpus: 64, memoryMiB: 256 * 1024, freeMemoryMiB: 240 * 1024, cpuModel: 'sim', domainType: 'kvm', arch: 'x86_64',
};

export const SIM_NETWORKS = ['private', 'default'];

export function simHostName(index: number, prefix = 'sim-'): string {
  return `${prefix}${String(index + 1).padStart(4, '0')}`;
}

export function simHostUuid(index: number): string {
  return `51a00000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
}

/**
 * Every sim host runs on this one machine, so its CPU facts are the same for all: ask systeminformation once
 * (each si.cpu() call costs ~25 ms of lscpu & co, i.e. a minute of start-up for 1,000 hosts).
 */
let cpuOnce: ReturnType<typeof si.cpu> | undefined;
function shareCpuFacts(): void {
  if (cpuOnce) return;
  const real = si.cpu.bind(si);
  cpuOnce = real();
  cpuOnce.catch(() => { cpuOnce = undefined; si.cpu = real; });
  si.cpu = () => cpuOnce ?? real();
}

async function createHost(o: SimHostsOptions, index: number, dataRoot: string, log: Logger): Promise<Omit<SimHost, 'port' | 'url'>> {
  const name = simHostName(index, o.namePrefix);
  const hostUuid = simHostUuid(index);
  const dataDir = join(dataRoot, name);
  mkdirSync(dataDir, { recursive: true });
  const config: AgentConfig = {
    ...DEFAULT_CONFIG, listenHost: o.listenHost ?? '127.0.0.1', listenPort: o.basePort ? o.basePort + index : 0,
    ...o.agent, dataDir, runDir: join(dataDir, 'run'), secret: o.secret,
  };
  const hv = new FakeHypervisor({
    hostInfo: { ...SIM_HOST_DEFAULTS, ...o.hostInfo, hostname: name, hostUuid },
    ...(o.acpiDelayMs !== undefined ? { acpiDelayMs: o.acpiDelayMs } : {}),
  });
  for (const net of o.networks ?? SIM_NETWORKS) hv.addNetwork(net);
  const disks = new SimDiskTool();
  const agent = await Agent.create({ hv, config, log: log.child({ host: name }), disks });
  agent.deps.images = new SimImageCache(agentPaths(dataDir).images, disks);
  await agent.start();
  if (o.warm ?? true) await agent.inventory.collect();
  // the operator socket of a real agent (<dataDir>/<host>/run/ctl.sock), unless the caller wants none
  const ctl = o.ctlSockets === false ? null : await startCtlServer(agent, config.runDir);
  return { index, name, hostUuid, agent, hv, ctl, ctlSocket: ctl ? ctlSocketPath(config.runDir) : null };
}

/** Starts `count` simulated hosts; each answers the agent protocol on its own port. */
export async function startSimHosts(o: SimHostsOptions): Promise<SimHosts> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error('count must be a positive integer');
  if (o.secret.length < 16) throw new Error('cluster secret shorter than 16 characters');
  const log = o.log ?? pino({ level: 'warn', base: { svc: 'novalet-sim' } });
  shareCpuFacts();
  const ownRoot = o.dataRoot === undefined;
  const dataRoot = o.dataRoot ?? mkdtempSync(join(process.env['NOVALET_SIM_TMP'] ?? '/tmp', 'novalet-sim-'));
  mkdirSync(dataRoot, { recursive: true });

  const made: Omit<SimHost, 'port' | 'url'>[] = [];
  const servers: http.Server[] = [];
  let rpc: FastifyInstance | undefined;
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
    await rpc?.close();
    for (const h of made) {
      await new Promise<void>((r) => (h.ctl ? h.ctl.close(() => r()) : r()));
      await h.agent.stop();
      await h.hv.close();
      h.agent.close();
    }
    if (ownRoot) rmSync(dataRoot, { recursive: true, force: true });
  };

  try {
    const batch = o.startConcurrency ?? 16;
    for (let i = 0; i < o.count; i += batch) {
      const ids = Array.from({ length: Math.min(batch, o.count - i) }, (_, k) => i + k);
      made.push(...await Promise.all(ids.map((k) => createHost(o, k, dataRoot, log))));
    }

    const byPort = new Map<number, AgentBackend>();
    let current: AgentBackend | undefined;
    const take = (): AgentBackend => {
      if (!current) throw new AgentError('internal', 'simulated host: request not bound to a host');
      return current;
    };
    const dispatch: AgentBackend = {
      submit: (req) => take().submit(req),
      getOperation: (id, waitMs) => take().getOperation(id, waitMs),
      getOperationByRequestId: (rid, waitMs) => take().getOperationByRequestId(rid, waitMs),
      listServers: () => take().listServers(),
      getServer: (uuid) => take().getServer(uuid),
      consoleOutput: (uuid, lines) => take().consoleOutput(uuid, lines),
      inventory: (addr) => take().inventory(addr),
      putNetwork: (id, spec, addr) => take().putNetwork(id, spec, addr),
      deleteNetwork: (id) => take().deleteNetwork(id),
      listNetworks: () => take().listNetworks(),
      changePeers: (req) => take().changePeers(req),
      putPortSecurity: (portId, security) => take().putPortSecurity(portId, security),
      instanceFiles: (uuid) => take().instanceFiles(uuid),
      openInstanceFile: (uuid, name) => take().openInstanceFile(uuid, name),
      events: (since, waitMs) => take().events(since, waitMs),
      liveMigration: (uuid) => take().liveMigration(uuid),
      liveMigrationAction: (uuid, action) => take().liveMigrationAction(uuid, action),
      createStorageMarker: () => take().createStorageMarker(),
      checkStorageMarker: (marker) => take().checkStorageMarker(marker),
      removeStorageMarker: (marker) => take().removeStorageMarker(marker),
    };
    rpc = createRpcServer({ backend: dispatch, secret: o.secret, log: log.child({ svc: 'novalet-sim-rpc' }) });
    // synchronous on purpose: fastify calls the route handler in the same tick (see the header comment)
    rpc.addHook('preHandler', (req, _reply, done) => {
      current = byPort.get(req.raw.socket.localPort ?? -1);
      // bound for the synchronous part of the handler only (a handler may call the backend more than once,
      // e.g. submit then wait; all before its first await), then unbound before any other request runs
      queueMicrotask(() => { current = undefined; });
      done();
    });
    await rpc.ready();

    const hosts: SimHost[] = [];
    const handler = rpc.routing.bind(rpc);
    for (const h of made) {
      const srv = http.createServer({ keepAlive: true }, handler);
      srv.on('clientError', (_err, socket) => socket.destroy());
      servers.push(srv);
      const host = o.listenHost ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(o.basePort ? o.basePort + h.index : 0, host, () => { srv.off('error', reject); resolve(); });
      });
      const port = (srv.address() as AddressInfo).port;
      byPort.set(port, agentBackend(h.agent));
      hosts.push({ ...h, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
    }
    return { hosts, secret: o.secret, rpc, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

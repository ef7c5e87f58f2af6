import { AgentError } from '../rpc/errors.js';
import type { AgentBackend } from '../rpc/backend.js';
import type { OperationView } from '../rpc/protocol/operations.js';
import type { NicSpec } from '../rpc/protocol/server-spec.js';
import { operationView, type Agent } from './agent.js';
import { tailConsoleLog } from './console-log.js';
import { serverFiles } from './ops/domain-spec.js';
import { instanceFiles, openInstanceFile } from './ops/migrate-files.js';
import { liveMigrationAction, liveMigrationOf } from './migration/rpc.js';
import { createMarker, markerExists, removeMarker } from './migration/shared-storage.js';

/** Serves the RPC protocol from an Agent (long-polls wait on the runner, never longer than asked). */
export function agentBackend(agent: Agent): AgentBackend {
  const waitFor = async (id: string, waitMs: number): Promise<OperationView> => {
    const row = await agent.runner.wait(id, waitMs);
    if (!row) throw new AgentError('unknown_operation', `no operation ${id}`);
    return operationView(row);
  };
  return {
    submit: (req) => {
      const serverUuid = req.serverUuid.toLowerCase();
      const params = (req.kind === 'spawn' || req.kind === 'migrate_receive') && typeof (req.params as { spec?: { uuid?: unknown } }).spec?.uuid === 'string'
        ? { ...req.params, spec: { ...(req.params as { spec: object }).spec, uuid: String((req.params as { spec: { uuid: string } }).spec.uuid).toLowerCase() } }
        : req.params;
      // a NIC on a network this host was not given: 409 at once (a known request id answers its recorded operation)
      if (!agent.deps.journal.getOperationByRequestId(req.requestId)) {
        if (req.kind === 'spawn') agent.deps.networks.checkNics((params as { spec?: { nics?: NicSpec[] } }).spec?.nics);
        if (req.kind === 'attach_nic') agent.deps.networks.checkNics([(params as { nic: NicSpec }).nic]);
      }
      const r = agent.runner.submit({ requestId: req.requestId, serverUuid, kind: req.kind, params });
      return { operation: operationView(r.operation), duplicate: r.duplicate };
    },
    getOperation: (id, waitMs) => waitFor(id, waitMs),
    getOperationByRequestId: (requestId, waitMs) => {
      const row = agent.deps.journal.getOperationByRequestId(requestId);
      if (!row) throw new AgentError('unknown_operation', `no operation for request ${requestId}`);
      return waitFor(row.id, waitMs);
    },
    listServers: () => agent.listServers(),
    getServer: (uuid) => agent.getServer(uuid.toLowerCase()),
    // read-only: no operation, no lock (the guest keeps writing while we read); only a server the journal knows,
    // so the uuid names an instance dir of ours
    consoleOutput: async (uuid, lines) => {
      const s = agent.deps.journal.getServer(uuid.toLowerCase());
      if (!s || s.status === 'deleted') throw new AgentError('unknown_server', `no server ${uuid} on this host`);
      return tailConsoleLog(serverFiles(agent.deps.paths, s.uuid).consoleLog, lines);
    },
    inventory: (localAddress) => {
      agent.lease.touch(); // a controller's heartbeat poll renews the fencing lease
      agent.deps.networks.noteLocalAddress(localAddress);
      return agent.inventory.collect();
    },
    putNetwork: async (networkId, spec, localAddress) => {
      agent.deps.networks.noteLocalAddress(localAddress);
      return { network: await agent.deps.networks.put(networkId, spec) };
    },
    deleteNetwork: (networkId) => agent.deps.networks.delete(networkId),
    listNetworks: () => ({ networks: agent.deps.networks.list() }),
    changePeers: (req) => agent.deps.networks.changePeers(req),
    putPortSecurity: (portId, security) => agent.deps.networks.setPortSecurity(portId, security),
    instanceFiles: async (uuid) => ({ files: await instanceFiles(agent.deps, uuid.toLowerCase()) }),
    openInstanceFile: (uuid, name) => openInstanceFile(agent.deps, uuid.toLowerCase(), name),
    events: async (since, waitMs) => {
      const events = await agent.deps.events.wait(since, waitMs);
      return { events, next: events.at(-1)?.seq ?? Math.max(since, 0) };
    },
    liveMigration: (uuid) => liveMigrationOf(agent.deps, uuid.toLowerCase()),
    liveMigrationAction: (uuid, action) => liveMigrationAction(agent.deps, uuid.toLowerCase(), action),
    createStorageMarker: async () => ({ marker: await createMarker(agent.deps.paths) }),
    checkStorageMarker: (marker) => ({ exists: markerExists(agent.deps.paths, marker) }),
    removeStorageMarker: async (marker) => {
      await removeMarker(agent.deps.paths, marker);
      return { marker };
    },
  };
}

import type { Inventory, EventsResponse } from './protocol/inventory.js';
import type { OperationResponse, OperationView, SubmitOperationRequest } from './protocol/operations.js';
import type { Readable } from 'node:stream';
import type { ConsoleResponse, InstanceFilesResponse, ListServersResponse, ServerResponse } from './protocol/servers.js';
import type { ListNetworksResponse, NetworkResponse, NetworkSpec, PeerChangesRequest, PeerChangesResponse, PortSecurity } from './protocol/networks.js';
import type { LiveMigrationActionResponse, LiveMigrationResponse, StorageMarker, StorageMarkerCheck } from './protocol/live-migration.js';

/**
 * What the RPC server serves. The agent implements it (src/agent/rpc-backend.ts); keeping it here means
 * src/rpc depends on nothing in src/agent (cli -> agent -> rpc, never back). Methods throw AgentError.
 */
export interface AgentBackend {
  submit(req: SubmitOperationRequest): OperationResponse;
  getOperation(id: string, waitMs: number): Promise<OperationView>;
  getOperationByRequestId(requestId: string, waitMs: number): Promise<OperationView>;
  listServers(): ListServersResponse;
  getServer(uuid: string): ServerResponse;
  /** read-only: the tail of a server's console log (`lines` null = all within the byte cap) */
  consoleOutput(uuid: string, lines: number | null): Promise<ConsoleResponse>;
  /** `localAddress`: this host's address the controller reached it on (the default VXLAN tunnel address) */
  inventory(localAddress?: string): Promise<Inventory>;
  /** tenant networks (issue 12; src/rpc/protocol/networks.ts) */
  putNetwork(networkId: string, spec: NetworkSpec, localAddress?: string): Promise<NetworkResponse>;
  deleteNetwork(networkId: string): Promise<void>;
  listNetworks(): ListNetworksResponse;
  /** the VXLAN peers of networks this host carries, changed by delta (POST /v1/network-peers) */
  changePeers(req: PeerChangesRequest): Promise<PeerChangesResponse>;
  putPortSecurity(portId: string, security: PortSecurity): Promise<void>;
  /** read-only: the instance files a migration's target pulls (the guest must be shut off) */
  instanceFiles(uuid: string): Promise<InstanceFilesResponse>;
  /** read-only: one of those files as a stream */
  openInstanceFile(uuid: string, name: string): Promise<{ stream: Readable; sizeBytes: number }>;
  events(since: number, waitMs: number): Promise<EventsResponse>;
  /** source host: the running (or last) live migration's progress */
  liveMigration(uuid: string): LiveMigrationResponse;
  /** source host: abort or force-complete the running live migration (invalid_state when none runs) */
  liveMigrationAction(uuid: string, action: 'abort' | 'force-complete'): Promise<LiveMigrationActionResponse>;
  /** shared instance storage check: a marker file in the instances dir (create on one host, look on the other) */
  createStorageMarker(): Promise<StorageMarker>;
  checkStorageMarker(marker: string): StorageMarkerCheck;
  removeStorageMarker(marker: string): Promise<StorageMarker>;
}

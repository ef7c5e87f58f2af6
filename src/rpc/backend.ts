import type { Inventory, EventsResponse } from './protocol/inventory.js';
import type { OperationResponse, OperationView, SubmitOperationRequest } from './protocol/operations.js';
import type { ConsoleResponse, ListServersResponse, ServerResponse } from './protocol/servers.js';

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
  inventory(): Promise<Inventory>;
  events(since: number, waitMs: number): Promise<EventsResponse>;
}

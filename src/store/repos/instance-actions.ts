/** Instance actions (a server's action history) and their events. */
import type { InstanceAction, InstanceActionEvent } from '../types.js';

export interface InstanceActionRepo {
  createInstanceAction(a: Omit<InstanceAction, 'id' | 'finishTime' | 'updatedAt'>): Promise<InstanceAction>;
  finishInstanceAction(id: number, at: string, message: string | null): Promise<void>;
  listInstanceActions(serverId: string): Promise<InstanceAction[]>;
  getInstanceActionByRequest(serverId: string, requestId: string): Promise<InstanceAction | null>;
  startActionEvent(actionId: number, event: string, at: string, host: string | null): Promise<InstanceActionEvent>;
  finishActionEvent(id: number, at: string, result: 'Success' | 'Error', traceback: string | null): Promise<void>;
  listActionEvents(actionId: number): Promise<InstanceActionEvent[]>;
  /** close every unfinished action (and its events, as Error) of a server; returns how many */
  failOpenActions(serverId: string, at: string, message: string): Promise<number>;
}

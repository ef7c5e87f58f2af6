/**
 * A failed task's fault as Nova shows it on the server (`fault.code`, `fault.message`) and as the instance action
 * event records it: typed errors keep their status (e.g. 400 "No valid host was found."), host errors their
 * agent code, anything else is 500. Never a stack trace: the event's traceback holds the code and the message.
 */
import { ApiError } from '../errors.js';
import { HostCallError } from '../hosts/transport.js';

export interface Fault { code: number; message: string; /** stable error code, e.g. no_valid_host, invalid_state */ kind: string; retriable: boolean; }

const HOST_STATUS: Record<string, number> = { bad_request: 400, unknown_server: 404, invalid_state: 409, server_busy: 409 };

export function faultOf(err: unknown): Fault {
  if (err instanceof ApiError) return { code: err.status, message: err.message, kind: err.code, retriable: false };
  if (err instanceof HostCallError) return { code: HOST_STATUS[err.code] ?? 500, message: err.message, kind: err.code, retriable: err.retriable };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 500, message, kind: 'internal', retriable: false };
}

/** the event's traceback column */
export const faultDetail = (f: Fault) => `${f.kind}: ${f.message}`;

/**
 * Typed errors of the agent protocol. The code is the stable contract (clients switch on it); the HTTP
 * status only follows from it. The agent's own modules throw AgentError too, so a precondition failure
 * deep in the runner reaches the controller with the same code it would get from the RPC layer.
 */
export const ERROR_STATUS = {
  unauthorized: 401,
  bad_request: 400,
  unsupported_version: 400,
  unknown_server: 404,
  unknown_operation: 404,
  unknown_port: 404,
  invalid_state: 409,
  server_busy: 409,
  network_in_use: 409,
  draining: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export class AgentError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AgentError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, s);
}

/** A JSON-safe view of any thrown value, as stored in the journal and sent over RPC. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** VirtError / LibvirtError code name when the hypervisor failed */
  cause?: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof AgentError) return { code: err.code, message: err.message };
  const e = err as { message?: unknown; code?: unknown; codeName?: unknown; name?: unknown } | null;
  const message = e && typeof e.message === 'string' ? e.message : String(err);
  const cause = e && typeof e.codeName === 'string' ? e.codeName : e && typeof e.code === 'string' ? e.code : undefined;
  // VirtError codes (src/virt/errors.ts) that have an RPC meaning; the rest is internal with the cause kept
  if (cause === 'invalid_state') return { code: 'invalid_state', message, cause };
  if (cause === 'domain_not_found') return { code: 'invalid_state', message: `domain missing: ${message}`, cause };
  return cause ? { code: 'internal', message, cause } : { code: 'internal', message };
}

/**
 * The typed error catalogue. Controller services throw these; the API edge (src/api/errors.ts) maps the stable
 * `code` to an HTTP status and the body shape of the service (Nova or Keystone). Messages are the client-visible
 * text, written to match Nova's where Nova has one.
 */
export type ErrorCode =
  | 'bad_request' | 'malformed_body' | 'unknown_action' | 'invalid_microversion'
  | 'unauthorized' | 'forbidden'
  | 'not_found' | 'method_not_allowed' | 'not_acceptable_version'
  | 'conflict' | 'invalid_state' | 'locked'
  | 'over_quota' | 'no_valid_host' | 'not_implemented' | 'unsupported_media_type' | 'too_large' | 'rate_limited';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400, malformed_body: 400, unknown_action: 400, invalid_microversion: 400,
  unauthorized: 401, forbidden: 403, not_found: 404, method_not_allowed: 405, not_acceptable_version: 406,
  conflict: 409, invalid_state: 409, locked: 409, over_quota: 403, no_valid_host: 400, not_implemented: 501,
  unsupported_media_type: 415, too_large: 413, rate_limited: 429,
};

export class ApiError extends Error {
  readonly status: number;
  /** seconds a client should wait before retrying (429, 503): sent as Retry-After */
  retryAfterSeconds?: number;
  constructor(readonly code: ErrorCode, message: string, status?: number) {
    super(message);
    this.status = status ?? STATUS[code];
  }
}

export const badRequest = (m: string) => new ApiError('bad_request', m);
export const forbidden = (m = 'Policy doesn\'t allow this operation to be performed.') => new ApiError('forbidden', m);
export const notFound = (m: string) => new ApiError('not_found', m);
export const conflict = (m: string) => new ApiError('conflict', m);
export const unauthorized = (m = 'The request you have made requires authentication.') => new ApiError('unauthorized', m);

/** a paginated list's marker names nothing (Nova: 400) */
export const markerNotFound = (marker: string) => badRequest(`marker [${marker}] not found`);
export const instanceNotFound = (id: string) => notFound(`Instance ${id} could not be found.`);
export const instanceLocked = (id: string) => new ApiError('locked', `Instance ${id} is locked`);
/** Nova: "Cannot '<action>' instance <uuid> while it is in <attr> <state>" */
export const invalidState = (action: string, id: string, attr: 'vm_state' | 'task_state', state: string | null) =>
  new ApiError('invalid_state', `Cannot '${action}' instance ${id} while it is in ${attr} ${state ?? 'None'}`);
export const noValidHost = () => new ApiError('no_valid_host', 'No valid host was found. There are not enough hosts available.');

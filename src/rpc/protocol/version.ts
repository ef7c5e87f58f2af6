/** Protocol name + major version. A breaking change bumps the number; additive fields do not. */
export const PROTOCOL = 'novalet-agent/1';
export const SUPPORTED_PROTOCOLS: readonly string[] = [PROTOCOL];

/** Headers carried by every request (and echoed by every response for the request id). */
export const HEADER_PROTOCOL = 'x-novalet-protocol';
export const HEADER_REQUEST_ID = 'x-request-id';

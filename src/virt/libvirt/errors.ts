// Typed libvirt errors. Callers match on `codeName` (stable libvirt enum names), never on messages.
import { ERROR_CODE_NAMES, ERROR_DOMAIN_NAMES } from './codes.js';

export const ErrorLevel = { NONE: 0, WARNING: 1, ERROR: 2 } as const;

export class LibvirtError extends Error {
  /** virErrorNumber, e.g. 42 */
  readonly code: number;
  /** e.g. 'VIR_ERR_NO_DOMAIN' ('VIR_ERR_UNKNOWN_<n>' for codes newer than this table) */
  readonly codeName: string;
  /** virErrorDomain (where the error came from), e.g. 12 */
  readonly domain: number;
  /** e.g. 'VIR_FROM_TEST', 'VIR_FROM_QEMU' */
  readonly domainName: string;
  /** virErrorLevel: 1 warning, 2 error */
  readonly level: number;

  constructor(message: string, code: number, domain: number, level: number = ErrorLevel.ERROR, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibvirtError';
    this.code = code;
    this.codeName = ERROR_CODE_NAMES[code] ?? `VIR_ERR_UNKNOWN_${code}`;
    this.domain = domain;
    this.domainName = ERROR_DOMAIN_NAMES[domain] ?? `VIR_FROM_UNKNOWN_${domain}`;
    this.level = level;
  }
}

interface NativeErrorShape { libvirt: true; message: string; code: number; domain: number; level: number; stack?: string }

function isNativeError(e: unknown): e is NativeErrorShape {
  return typeof e === 'object' && e !== null && (e as { libvirt?: unknown }).libvirt === true;
}

/** Convert an error thrown by the addon into a LibvirtError; anything else is returned unchanged. */
export function toLibvirtError(e: unknown): unknown {
  if (!isNativeError(e)) return e;
  return new LibvirtError(e.message, e.code, e.domain, e.level);
}

/** Run a native call, converting its rejection (or synchronous throw) into a LibvirtError. */
export async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toLibvirtError(e);
  }
}

export function isLibvirtError(e: unknown, codeName?: string): e is LibvirtError {
  return e instanceof LibvirtError && (codeName === undefined || e.codeName === codeName);
}

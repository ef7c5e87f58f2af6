/**
 * Typed errors of the virt layer. The agent maps `code` to RPC errors, so codes are a stable contract;
 * `libvirtCode` (e.g. 'VIR_ERR_NO_DOMAIN') and `cause` are for logs only, never for decisions.
 */
import { isLibvirtError, type LibvirtError } from './libvirt/index.js';

export type VirtErrorCode =
  /** no such domain (uuid unknown to the hypervisor) */
  | 'domain_not_found'
  /** the domain is not in a state that allows the operation (pause of a shut-off domain, ...) */
  | 'invalid_state'
  /** libvirtd unreachable or the connection died; retry later */
  | 'hypervisor_unavailable'
  /** anything else libvirt, QEMU or qemu-img refused */
  | 'operation_failed'
  /** a wait we own (device removal, block job) or libvirt's own timeout expired */
  | 'timeout'
  /** the job (a migration) was aborted on request */
  | 'aborted';

export class VirtError extends Error {
  readonly code: VirtErrorCode;
  /** libvirt's error code name when the error came from libvirt */
  readonly libvirtCode: string | undefined;

  constructor(code: VirtErrorCode, message: string, options: { cause?: unknown; libvirtCode?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VirtError';
    this.code = code;
    this.libvirtCode = options.libvirtCode ?? (isLibvirtError(options.cause) ? options.cause.codeName : undefined);
  }
}

export function isVirtError(e: unknown, code?: VirtErrorCode): e is VirtError {
  return e instanceof VirtError && (code === undefined || e.code === code);
}

// libvirt error codes whose meaning is stable enough to map; everything else is 'operation_failed'.
const BY_LIBVIRT_CODE: Record<string, VirtErrorCode> = {
  VIR_ERR_NO_DOMAIN: 'domain_not_found',
  VIR_ERR_OPERATION_INVALID: 'invalid_state',
  VIR_ERR_INVALID_CONN: 'hypervisor_unavailable',
  VIR_ERR_NO_CONNECT: 'hypervisor_unavailable',
  VIR_ERR_OPERATION_TIMEOUT: 'timeout',
  VIR_ERR_AGENT_UNRESPONSIVE: 'timeout',
  VIR_ERR_OPERATION_ABORTED: 'aborted',
};

/**
 * Wraps anything thrown below the virt layer into a VirtError. `connectionLost` says whether the
 * connection died meanwhile: calls failing because of that are 'hypervisor_unavailable' whatever libvirt
 * called them (the binding settles pending calls with an internal RPC error).
 */
export function toVirtError(e: unknown, what: string, connectionLost = false): VirtError {
  if (e instanceof VirtError) return e;
  if (isLibvirtError(e)) {
    const le = e as LibvirtError;
    const code = connectionLost ? 'hypervisor_unavailable' : (BY_LIBVIRT_CODE[le.codeName] ?? 'operation_failed');
    return new VirtError(code, `${what}: ${le.message}`, { cause: le, libvirtCode: le.codeName });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new VirtError(connectionLost ? 'hypervisor_unavailable' : 'operation_failed', `${what}: ${msg}`, { cause: e });
}

/**
 * Live migration as the virt layer offers it (Hypervisor.migrate and friends): peer-to-peer with Nova's flags,
 * the job's statistics, and the knobs a monitor turns while it runs (max downtime, post-copy, abort).
 */

export interface MigrateRequest {
  /** the destination libvirtd, e.g. qemu+tcp://10.77.0.2/system or qemu+tls://host-b/system (the source libvirtd connects to it) */
  destUri: string;
  /** hypervisor data channel (VIR_MIGRATE_PARAM_URI), e.g. tcp://10.77.0.2; default: the destination's migration_host */
  migrateUri?: string;
  /** MiB/s cap; 0 or absent: unlimited */
  bandwidthMiBs?: number;
  /**
   * Copy the writable local file disks (NON_SHARED_INC: only their top qcow2 layer; the destination has the
   * base image and a pre-created overlay of the right size, as Nova's pre_live_migration makes them).
   */
  blockMigration: boolean;
  /** disk targets to copy with blockMigration; default every writable file disk */
  copyDisks?: string[];
  /** QEMU throttles the vCPUs when the guest dirties memory faster than it is sent (VIR_MIGRATE_AUTO_CONVERGE) */
  autoConverge?: boolean;
  /**
   * The disks not copied are on storage the caller proved shared (the storage marker check): libvirt cannot tell
   * that from the file system type for every shared file system (it knows NFS, CephFS, GlusterFS, GPFS, OCFS2 ...)
   * and refuses the rest as "unsafe" (VIR_MIGRATE_UNSAFE then overrides it).
   */
  sharedStorage?: boolean;
  /** encrypt the QEMU data stream too (VIR_MIGRATE_TLS: QEMU uses the host's libvirt TLS certificates) */
  tls?: boolean;
  /** allow a switch to post-copy later (VIR_MIGRATE_POSTCOPY; the switch is migrationStartPostCopy) */
  postCopy?: boolean;
  /**
   * Path prefixes rewritten in the definition the destination gets ([from, to]: the source's instance dir and
   * image cache -> the destination's), for hosts whose data dirs differ.
   */
  pathRewrites?: [string, string][];
  /**
   * A guest emulated by TCG (`<domain type='qemu'>`) is paused for the copy instead of running through it (no
   * VIR_MIGRATE_LIVE): with QEMU 7.2, TCG guests that wrote memory during a live copy hung or oopsed on the
   * destination (src/agent/README.md "Live migration of emulated guests"). KVM guests always migrate live.
   */
  pauseEmulated?: boolean;
}

/** One reading of the migration job (libvirt's virDomainGetJobStats); bytes and milliseconds. */
export interface MigrationStats {
  /** false: no job runs on the domain (not started yet, or finished) */
  active: boolean;
  elapsedMs: number;
  dataTotal: number;
  dataProcessed: number;
  dataRemaining: number;
  memoryTotal: number;
  memoryProcessed: number;
  memoryRemaining: number;
  /** bytes/s the guest dirties memory at (memory_dirty_rate pages/s x page size) */
  memoryDirtyRate: number;
  /** passes over guest memory so far (memory_iteration) */
  iterations: number;
  diskTotal: number;
  diskProcessed: number;
  diskRemaining: number;
  /** QEMU's expected downtime for the switch-over, when it knows one */
  expectedDowntimeMs?: number;
}

export const NO_MIGRATION_JOB: MigrationStats = {
  active: false, elapsedMs: 0, dataTotal: 0, dataProcessed: 0, dataRemaining: 0, memoryTotal: 0, memoryProcessed: 0,
  memoryRemaining: 0, memoryDirtyRate: 0, iterations: 0, diskTotal: 0, diskProcessed: 0, diskRemaining: 0,
};

/** Rewrites path prefixes in a domain XML (attribute values and element text that start with a prefix). */
export function rewritePaths(xml: string, rewrites: readonly [string, string][]): string {
  let out = xml;
  for (const [from, to] of rewrites) {
    if (!from || from === to) continue;
    const f = from.endsWith('/') ? from : `${from}/`;
    const t = to.endsWith('/') ? to : `${to}/`;
    // only where a path starts: after a quote (attribute) or '>' (element text such as <kernel>)
    out = out.split(`'${f}`).join(`'${t}`).split(`"${f}`).join(`"${t}`).split(`>${f}`).join(`>${t}`);
  }
  return out;
}

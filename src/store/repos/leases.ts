/** Named cluster-wide leases: periodic work that runs once per cluster, not once per controller (store/sqlite/leases.ts). */
export interface ClusterLeaseRepo {
  /**
   * Takes or renews the lease `name` for `holder` until `untilMs` (epoch ms) when it is free, ran out before
   * `nowMs`, or is the holder's already: one conditional write, so of racing controllers exactly one holds it.
   */
  takeClusterLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** gives the lease up if `holder` has it (a controller stopping: another takes the work at once) */
  releaseClusterLease(name: string, holder: string): Promise<void>;
}

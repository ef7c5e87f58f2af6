/**
 * Host failure handling (controller config key `evacuation`). Automatic evacuation is off unless asked for: an
 * operator turns it on once a host that is down is known to stay down (power fencing, or the agents' lease below).
 */
export interface EvacuationConfig {
  /** evacuate the servers of a host that has been down longer than `delaySeconds`, without anyone asking */
  auto: boolean;
  /** how long a host must have been down before its servers are evacuated (longer than transient blips) */
  delaySeconds: number;
  /** at most this many hosts are evacuated at once */
  maxConcurrentHosts: number;
  /** at most this many servers of one host are being evacuated at once */
  maxServersPerHost: number;
  /**
   * never evacuate while more than this fraction of the hosts is down at once (a network partition, or the
   * controller's own network, looks like that): the log says why
   */
  maxDownFraction: number;
  /** how often the host monitor looks at the hosts (seconds) */
  monitorIntervalSeconds: number;
}

export const DEFAULT_EVACUATION: EvacuationConfig = {
  auto: false, delaySeconds: 300, maxConcurrentHosts: 1, maxServersPerHost: 10, maxDownFraction: 0.5, monitorIntervalSeconds: 5,
};

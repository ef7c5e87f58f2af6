/**
 * The agents this controller drives: one AgentClient per agent URL, keyed by the host name the agent reports in
 * its inventory (hosts are named by themselves, as Nova's compute services are). An agent is usable by the driver
 * once its first heartbeat named it.
 */
import { AgentClient } from '../../rpc/client.js';

export interface AgentEndpoint {
  url: string;
  /**
   * The agent runs on the controller's machine (the all-in-one): it reads images from the image store's files and
   * writes snapshots straight into it. Remote agents fetch images over signed HTTP URLs.
   */
  local?: boolean;
  /** PEM CA of an agent with a private certificate */
  ca?: string;
}

/** TLS material for every agent: the CA agents' certificates chain to, and the controller's client certificate (mTLS) */
export interface AgentClientTls { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer }

export interface AgentEntry {
  endpoint: AgentEndpoint;
  client: AgentClient;
  /** host name from the agent's inventory; null until the first heartbeat */
  host: string | null;
}

export class AgentDirectory {
  private readonly entries: AgentEntry[] = [];
  private readonly byName = new Map<string, AgentEntry>();

  constructor(private readonly secret: string, endpoints: AgentEndpoint[] = [], private readonly timeoutMs = 30_000, private readonly tls: AgentClientTls = {}) {
    for (const e of endpoints) this.add(e);
  }

  add(endpoint: AgentEndpoint): AgentEntry {
    const entry: AgentEntry = {
      endpoint, host: null,
      client: new AgentClient({ url: endpoint.url, secret: this.secret, timeoutMs: this.timeoutMs, ...this.tls, ...(endpoint.ca ? { ca: endpoint.ca } : {}) }),
    };
    this.entries.push(entry);
    return entry;
  }

  all(): readonly AgentEntry[] { return this.entries; }

  /** records the name an agent reported; false when another agent already reports that name */
  name(entry: AgentEntry, host: string): boolean {
    const other = this.byName.get(host);
    if (other && other !== entry) return false;
    if (entry.host && entry.host !== host) this.byName.delete(entry.host);
    entry.host = host;
    this.byName.set(host, entry);
    return true;
  }

  forHost(host: string): AgentEntry | undefined { return this.byName.get(host); }
}

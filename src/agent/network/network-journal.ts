/**
 * The tenant networks this host was given (PUT /v1/networks/:id) and the mark ids of filtered ports, in the
 * agent's journal (migration 3): journaled before they are realised, so the reconciler re-ensures exactly these
 * after a restart and removes whatever else carries our names.
 */
import type { Database } from '../../sqlite/index.js';
import type { NetworkSpec } from '../../rpc/protocol/networks.js';
import { MAX_MARK_ID } from './names.js';

export interface NetworkRow {
  id: string;
  spec: NetworkSpec;
  localIp: string | null;
  updatedAt: string;
}

export class NetworkJournal {
  constructor(private readonly db: Database) {}

  put(id: string, spec: NetworkSpec, localIp: string | null): void {
    this.db.prepare(`INSERT INTO tenant_networks (id, spec, local_ip, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET spec = excluded.spec, local_ip = excluded.local_ip, updated_at = excluded.updated_at`)
      .run(id, JSON.stringify(spec), localIp, new Date().toISOString());
  }

  get(id: string): NetworkRow | undefined {
    const r = this.db.prepare('SELECT * FROM tenant_networks WHERE id = ?').get(id) as { id: string; spec: string; local_ip: string | null; updated_at: string } | undefined;
    return r ? { id: r.id, spec: JSON.parse(r.spec) as NetworkSpec, localIp: r.local_ip, updatedAt: r.updated_at } : undefined;
  }

  list(): NetworkRow[] {
    return (this.db.prepare('SELECT * FROM tenant_networks ORDER BY id').all() as { id: string; spec: string; local_ip: string | null; updated_at: string }[])
      .map((r) => ({ id: r.id, spec: JSON.parse(r.spec) as NetworkSpec, localIp: r.local_ip, updatedAt: r.updated_at }));
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM tenant_networks WHERE id = ?').run(id);
  }

  /** The port's mark id, allocated (lowest free) on first use. */
  markId(portId: string): number {
    return this.db.transaction(() => {
      const r = this.db.prepare('SELECT mark_id FROM port_marks WHERE port_id = ?').get(portId) as { mark_id: number } | undefined;
      if (r) return r.mark_id;
      const used = new Set((this.db.prepare('SELECT mark_id FROM port_marks ORDER BY mark_id').all() as { mark_id: number }[]).map((x) => x.mark_id));
      let id = 1;
      while (used.has(id)) id++;
      if (id > MAX_MARK_ID) throw new Error('no free port mark id');
      this.db.prepare('INSERT INTO port_marks (port_id, mark_id) VALUES (?, ?)').run(portId, id);
      return id;
    })();
  }

  existingMarkId(portId: string): number | undefined {
    return (this.db.prepare('SELECT mark_id FROM port_marks WHERE port_id = ?').get(portId) as { mark_id: number } | undefined)?.mark_id;
  }

  releaseMark(portId: string): void {
    this.db.prepare('DELETE FROM port_marks WHERE port_id = ?').run(portId);
  }

  marks(): Map<string, number> {
    return new Map((this.db.prepare('SELECT port_id, mark_id FROM port_marks').all() as { port_id: string; mark_id: number }[]).map((r) => [r.port_id, r.mark_id]));
  }
}

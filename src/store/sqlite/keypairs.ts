/** SQLite repository of key pairs. */
import type { KeypairRepo } from '../repos/keypairs.js';
import type { Keypair } from '../types.js';
import type { Row } from './columns.js';
import { SqliteRepository } from './repository.js';

export class SqliteKeypairs extends SqliteRepository implements KeypairRepo {
  async createKeypair(k: Keypair): Promise<boolean> {
    return this.db.prepare(`INSERT OR IGNORE INTO keypairs (user_id, name, type, public_key, fingerprint, created_at)
      VALUES (?, ?, ?, ?, ?, ?)`).run(k.userId, k.name, k.type, k.publicKey, k.fingerprint, k.createdAt).changes === 1;
  }
  async getKeypair(userId: string, name: string): Promise<Keypair | null> {
    return keypair(this.db.prepare('SELECT * FROM keypairs WHERE user_id = ? AND name = ?').get(userId, name));
  }
  async listKeypairs(userId: string, o: { limit?: number; marker?: string } = {}): Promise<Keypair[]> {
    const p: unknown[] = [userId];
    let sql = 'SELECT * FROM keypairs WHERE user_id = ?';
    if (o.marker !== undefined) { sql += ' AND name > ?'; p.push(o.marker); }
    sql += ' ORDER BY name';
    if (o.limit !== undefined) { sql += ' LIMIT ?'; p.push(o.limit); }
    return this.db.prepare(sql).all(...p).map((r) => keypair(r)!);
  }
  async deleteKeypair(userId: string, name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM keypairs WHERE user_id = ? AND name = ?').run(userId, name).changes === 1;
  }
}

function keypair(r: unknown): Keypair | null {
  if (!r) return null; const x = r as Row;
  return { userId: x.user_id as string, name: x.name as string, type: x.type as 'ssh' | 'x509', publicKey: x.public_key as string, fingerprint: x.fingerprint as string, createdAt: x.created_at as string };
}

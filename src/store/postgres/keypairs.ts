/** PostgreSQL repository of key pairs. */
import type { KeypairRepo } from '../repos/keypairs.js';
import type { Keypair } from '../types.js';
import type { Row } from './db.js';
import { PgRepository } from './repository.js';

export class PgKeypairs extends PgRepository implements KeypairRepo {
  async createKeypair(k: Keypair): Promise<boolean> {
    return (await this.run(`INSERT INTO keypairs (user_id, name, type, public_key, fingerprint, created_at)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, [k.userId, k.name, k.type, k.publicKey, k.fingerprint, k.createdAt])) === 1;
  }
  async getKeypair(userId: string, name: string): Promise<Keypair | null> {
    return keypair(await this.one('SELECT * FROM keypairs WHERE user_id = ? AND name = ?', [userId, name]));
  }
  async listKeypairs(userId: string, o: { limit?: number; marker?: string } = {}): Promise<Keypair[]> {
    const p: unknown[] = [userId];
    let sql = 'SELECT * FROM keypairs WHERE user_id = ?';
    if (o.marker !== undefined) { sql += ' AND name COLLATE "C" > ?'; p.push(o.marker); }
    sql += ' ORDER BY name COLLATE "C"';
    if (o.limit !== undefined) { sql += ' LIMIT ?'; p.push(o.limit); }
    return (await this.all(sql, p)).map((r) => keypair(r)!);
  }
  async deleteKeypair(userId: string, name: string): Promise<boolean> {
    return (await this.run('DELETE FROM keypairs WHERE user_id = ? AND name = ?', [userId, name])) === 1;
  }
}

function keypair(x: Row | undefined): Keypair | null {
  return x ? { userId: x.user_id as string, name: x.name as string, type: x.type as 'ssh' | 'x509', publicKey: x.public_key as string, fingerprint: x.fingerprint as string, createdAt: x.created_at as string } : null;
}

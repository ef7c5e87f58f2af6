/** Key pairs, per user. */
import type { Keypair } from '../types.js';

export interface KeypairRepo {
  createKeypair(k: Keypair): Promise<boolean>;
  getKeypair(userId: string, name: string): Promise<Keypair | null>;
  listKeypairs(userId: string, opts?: { limit?: number; marker?: string }): Promise<Keypair[]>;
  deleteKeypair(userId: string, name: string): Promise<boolean>;
}

/**
 * Password hashing with scrypt (node:crypto). Format `scrypt$N$r$p$salt$hash` so that the cost can be raised later
 * without invalidating existing hashes. N=2^14 costs ~20-40 ms: clients authenticate once per command, so this is
 * paid once per CLI invocation, and a short-lived in-memory cache of successful verifications removes it from
 * bursts of commands.
 */
import { randomBytes, scrypt, timingSafeEqual, createHash } from 'node:crypto';

const N = 16384; const R = 8; const P = 1; const LEN = 32;

function scryptAsync(pw: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(pw, salt, LEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))));
}

export async function hashPassword(pw: string): Promise<string> {
  const salt = randomBytes(16);
  const h = await scryptAsync(pw, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${h.toString('base64')}`;
}

const verified = new Map<string, number>();
const CACHE_MS = 60_000;

export async function verifyPassword(pw: string, stored: string): Promise<boolean> {
  // cache key binds password and stored hash, so a password change invalidates it
  const key = createHash('sha256').update(stored).update('\0').update(pw).digest('base64');
  const at = verified.get(key);
  if (at !== undefined && Date.now() - at < CACHE_MS) return true;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4]!, 'base64');
  const want = Buffer.from(parts[5]!, 'base64');
  const got = await scryptAsync(pw, salt, n, r, p);
  const ok = got.length === want.length && timingSafeEqual(got, want);
  if (ok) {
    if (verified.size > 10_000) verified.clear();
    verified.set(key, Date.now());
  }
  return ok;
}

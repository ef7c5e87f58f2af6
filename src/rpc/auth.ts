import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Shared cluster secret as a bearer token. Both sides are hashed first so the comparison is constant-time
 * whatever the lengths (timingSafeEqual throws on different lengths, which would leak the length).
 */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1];
}

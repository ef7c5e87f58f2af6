import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** a secret kept in a root-only file, generated on first use (cluster secret, bootstrap passwords) */
export function fileSecret(path: string, bytes = 24): string {
  if (existsSync(path)) {
    const s = readFileSync(path, 'utf8').split('\n')[0]!.trim();
    if (s.length >= 16) return s;
  }
  const s = randomBytes(bytes).toString('base64url');
  writeFileSync(path, `${s}\n`, { mode: 0o600 });
  return s;
}

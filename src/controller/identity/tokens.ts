/**
 * Stateless signed tokens: `<base64url(payload)>.<base64url(hmac-sha256)>`. Issuing costs one HMAC, no write;
 * validation checks the signature, expiry, a revocation record (explicit DELETE) and the user's
 * tokens_valid_after (set when the user is disabled), so revocation works without storing every token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenPayload {
  /** token id (random), the key of a revocation record */
  jti: string;
  /** user id */
  sub: string;
  /** project id, absent for unscoped tokens */
  prj?: string;
  /** auth methods */
  mth: string[];
  /** issued at / expires at, ms since epoch */
  iat: number;
  exp: number;
}

const b64 = (b: Buffer) => b.toString('base64url');

export class TokenSigner {
  constructor(private readonly secret: Buffer) {}

  issue(p: Omit<TokenPayload, 'jti'>): { token: string; payload: TokenPayload } {
    const payload: TokenPayload = { jti: b64(randomBytes(12)), ...p };
    const body = b64(Buffer.from(JSON.stringify(payload)));
    return { token: `${body}.${this.sign(body)}`, payload };
  }

  /** the payload if the signature is good (expiry and revocation are the caller's checks), else null */
  verify(token: string): TokenPayload | null {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 4096) return null;
    const body = token.slice(0, dot);
    const sig = Buffer.from(token.slice(dot + 1), 'base64url');
    const want = Buffer.from(this.sign(body), 'base64url');
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return null;
    try {
      const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
      return typeof p.sub === 'string' && typeof p.exp === 'number' ? p : null;
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return b64(createHmac('sha256', this.secret).update(body).digest());
  }
}

/**
 * Key pairs: import (OpenSSH public keys, x509 certificates) and generation (RSA 2048 like Nova, or ed25519) with
 * node:crypto. Fingerprints as Nova computes them: MD5 of the key blob for ssh, SHA-1 of the DER for x509.
 */
import { createHash, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Store, Keypair } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { ApiError, badRequest, markerNotFound, notFound } from '../errors.js';
import type { QuotaService } from './quotas.js';

const generateAsync = promisify(generateKeyPair) as (type: 'rsa' | 'ed25519', opts?: { modulusLength: number }) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;

const colonHex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

function sshString(b: Buffer): Buffer { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return Buffer.concat([l, b]); }
function mpint(b: Buffer): Buffer {
  let i = 0; while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

/** OpenSSH one-line public key for an RSA or ed25519 KeyObject */
export function opensshPublicKey(pub: KeyObject, comment: string): string {
  const jwk = pub.export({ format: 'jwk' }) as { kty: string; n?: string; e?: string; crv?: string; x?: string };
  let blob: Buffer;
  let type: string;
  if (jwk.kty === 'RSA') {
    type = 'ssh-rsa';
    blob = Buffer.concat([sshString(Buffer.from(type)), mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url'))]);
  } else if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    type = 'ssh-ed25519';
    blob = Buffer.concat([sshString(Buffer.from(type)), sshString(Buffer.from(jwk.x!, 'base64url'))]);
  } else throw new Error(`unsupported key type ${jwk.kty}`);
  return `${type} ${blob.toString('base64')} ${comment}`;
}

const SSH_TYPES = new Set(['ssh-rsa', 'ssh-ed25519', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com']);

/** Validates an OpenSSH public key line; returns its fingerprint */
export function sshFingerprint(line: string): string {
  const parts = line.trim().split(/\s+/);
  const bad = () => badRequest('Keypair data is invalid: failed to generate fingerprint');
  if (parts.length < 2 || !SSH_TYPES.has(parts[0]!)) throw bad();
  const blob = Buffer.from(parts[1]!, 'base64');
  if (blob.length < 8 || blob.toString('base64').replace(/=+$/, '') !== parts[1]!.replace(/=+$/, '')) throw bad();
  const n = blob.readUInt32BE(0);
  if (blob.subarray(4, 4 + n).toString() !== parts[0]) throw bad();
  return colonHex(createHash('md5').update(blob).digest());
}

export class KeypairService {
  constructor(private readonly store: Store, private readonly quotas: QuotaService) {}

  list(ctx: RequestContext, userId: string, opts: { limit?: number; marker?: string }): Promise<Keypair[]> {
    void ctx;
    return this.store.listKeypairs(userId, opts);
  }

  /** a list's marker must name one of the user's key pairs */
  async checkMarker(userId: string, marker: string | undefined): Promise<void> {
    if (marker !== undefined && !(await this.store.getKeypair(userId, marker))) throw markerNotFound(marker);
  }

  async get(userId: string, name: string): Promise<Keypair> {
    const k = await this.store.getKeypair(userId, name);
    if (!k) throw notFound(`Keypair ${name} not found for user ${userId}`);
    return k;
  }

  /** import when publicKey is given, else generate; returns the private key only when generated */
  async create(ctx: RequestContext, userId: string, name: string, type: 'ssh' | 'x509', publicKey: string | undefined, algo: 'rsa' | 'ed25519' = 'rsa'): Promise<{ keypair: Keypair; privateKey?: string }> {
    await this.quotas.checkKeypairs(ctx.projectId, userId);
    let privateKey: string | undefined;
    let fingerprint: string;
    if (publicKey !== undefined) {
      if (type === 'x509') {
        try { fingerprint = colonHex(Buffer.from(new X509Certificate(publicKey).fingerprint.replace(/:/g, ''), 'hex')); } catch {
          throw badRequest('Keypair data is invalid: failed to generate fingerprint');
        }
      } else fingerprint = sshFingerprint(publicKey);
    } else {
      if (type === 'x509') throw badRequest('Keypair data is invalid: generating x509 key pairs is not supported');
      // a taken name fails before the (costly) generation; the insert below still decides a race
      if (await this.store.getKeypair(userId, name)) throw new ApiError('conflict', `Key pair '${name}' already exists.`);
      // generated off the event loop: an RSA key takes tens of milliseconds of CPU
      const kp = algo === 'ed25519' ? await generateAsync('ed25519') : await generateAsync('rsa', { modulusLength: 2048 });
      publicKey = opensshPublicKey(kp.publicKey, `Generated-by-Nova`);
      privateKey = algo === 'ed25519'
        ? (kp.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
        : (kp.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string);
      fingerprint = sshFingerprint(publicKey);
    }
    const k: Keypair = { userId, name, type, publicKey: publicKey.trim(), fingerprint, createdAt: new Date().toISOString() };
    if (!(await this.store.createKeypair(k))) throw new ApiError('conflict', `Key pair '${name}' already exists.`);
    return privateKey !== undefined ? { keypair: k, privateKey } : { keypair: k };
  }

  async delete(userId: string, name: string): Promise<void> {
    if (!(await this.store.deleteKeypair(userId, name))) throw notFound(`Keypair ${name} not found for user ${userId}`);
  }
}

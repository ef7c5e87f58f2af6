/**
 * Images for agents on other hosts: a download URL signed with the cluster secret (HMAC over id + expiry), so the
 * agent's image cache can fetch it with a plain GET and no user token, and nobody without the secret can.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ImageService } from '../images/service.js';

export const IMAGE_EXPORT_PREFIX = '/internal/images';

const sign = (secret: string, id: string, expires: number) => createHmac('sha256', secret).update(`image:${id}:${expires}`).digest('hex');

export function signedImageUrl(baseUrl: string, secret: string, id: string, ttlSec = 3600, nowMs = Date.now()): string {
  const expires = Math.floor(nowMs / 1000) + ttlSec;
  return `${baseUrl.replace(/\/+$/, '')}${IMAGE_EXPORT_PREFIX}/${encodeURIComponent(id)}?expires=${expires}&sig=${sign(secret, id, expires)}`;
}

export function verifyImageSignature(secret: string, id: string, expires: string | undefined, sig: string | undefined, nowMs = Date.now()): boolean {
  const exp = Number(expires);
  if (!Number.isInteger(exp) || exp * 1000 < nowMs || typeof sig !== 'string') return false;
  const want = Buffer.from(sign(secret, id, exp));
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}

export function registerImageExport(app: FastifyInstance, images: ImageService, secret: string): void {
  app.get<{ Params: { id: string }; Querystring: { expires?: string; sig?: string } }>(`${IMAGE_EXPORT_PREFIX}/:id`, async (req, reply) => {
    if (!verifyImageSignature(secret, req.params.id, req.query.expires, req.query.sig)) {
      return reply.code(403).send({ error: { code: 'unauthorized', message: 'bad or expired image signature' } });
    }
    const { stream, size } = await images.download(null, req.params.id);
    return reply.type('application/octet-stream').header('content-length', size).send(stream);
  });
}

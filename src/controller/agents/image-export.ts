/**
 * Images for agents on other hosts: a download URL signed with the cluster secret (HMAC over purpose + id +
 * expiry), so the agent's image cache can fetch it with a plain GET and no user token, and nobody without the
 * secret can; and an upload URL signed the same way for a snapshot the agent took (a download signature never
 * works for an upload).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ImageService } from '../images/service.js';

export const IMAGE_EXPORT_PREFIX = '/internal/images';

type Purpose = 'image' | 'upload';
const sign = (secret: string, purpose: Purpose, id: string, expires: number) => createHmac('sha256', secret).update(`${purpose}:${id}:${expires}`).digest('hex');

export function signedImageUrl(baseUrl: string, secret: string, id: string, ttlSec = 3600, nowMs = Date.now(), purpose: Purpose = 'image'): string {
  const expires = Math.floor(nowMs / 1000) + ttlSec;
  return `${baseUrl.replace(/\/+$/, '')}${IMAGE_EXPORT_PREFIX}/${encodeURIComponent(id)}${purpose === 'upload' ? '/file' : ''}?expires=${expires}&sig=${sign(secret, purpose, id, expires)}`;
}

export function verifyImageSignature(secret: string, id: string, expires: string | undefined, sig: string | undefined, nowMs = Date.now(), purpose: Purpose = 'image'): boolean {
  const exp = Number(expires);
  if (!Number.isInteger(exp) || exp * 1000 < nowMs || typeof sig !== 'string') return false;
  const want = Buffer.from(sign(secret, purpose, id, exp));
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}

export function registerImageExport(app: FastifyInstance, images: ImageService, secret: string): void {
  // a snapshot from an agent: the body is the image, streamed to the image store (the task adopts it)
  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));
    scope.put<{ Params: { id: string }; Querystring: { expires?: string; sig?: string } }>(`${IMAGE_EXPORT_PREFIX}/:id/file`, { bodyLimit: Number.MAX_SAFE_INTEGER }, async (req, reply) => {
      if (!verifyImageSignature(secret, req.params.id, req.query.expires, req.query.sig, Date.now(), 'upload')) {
        return reply.code(403).send({ error: { code: 'unauthorized', message: 'bad or expired upload signature' } });
      }
      const size = await images.receiveFile(req.params.id, req.body as Readable);
      return reply.code(204).header('x-image-size', size).send();
    });
  });
  app.get<{ Params: { id: string }; Querystring: { expires?: string; sig?: string } }>(`${IMAGE_EXPORT_PREFIX}/:id`, async (req, reply) => {
    if (!verifyImageSignature(secret, req.params.id, req.query.expires, req.query.sig)) {
      return reply.code(403).send({ error: { code: 'unauthorized', message: 'bad or expired image signature' } });
    }
    const { stream, size } = await images.download(null, req.params.id);
    return reply.type('application/octet-stream').header('content-length', size).send(stream);
  });
}

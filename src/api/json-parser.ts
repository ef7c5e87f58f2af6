/**
 * JSON bodies: parse ourselves so that malformed JSON is always Nova's 400 "Malformed request body", and an empty
 * body on a route that expects none is simply no body.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../controller/errors.js';

export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  // Nova accepts JSON only; anything else is 415 badMediaType rather than a confusing schema error
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(['application/json', 'application/openstack-images-v2.1-json-patch'], { parseAs: 'string' }, (_req, body, done) => {
    const s = (body as string).trim();
    if (s === '') return done(null, undefined);
    try { done(null, JSON.parse(s)); } catch { done(new ApiError('malformed_body', 'Malformed request body'), undefined); }
  });
}

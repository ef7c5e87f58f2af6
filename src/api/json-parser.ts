/**
 * JSON bodies: parse ourselves so that malformed JSON is always Nova's 400 "Malformed request body", and an empty
 * body on a route that expects none is simply no body. Nesting is bounded: a body nested thousands deep would
 * otherwise overflow the stack of the recursive validation after it (no API body nests more than a few levels).
 * Text must be valid UTF-8 (Python's json refuses invalid bytes; fastify would turn them into U+FFFD silently) and
 * no string or key may hold a lone surrogate (`"\ud800"`: not text, and not storable as UTF-8).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../controller/errors.js';

export const MAX_JSON_DEPTH = 64;

/** the deepest nesting of arrays and objects in JSON text (brackets inside strings do not count); stops past `limit` */
export function jsonDepth(s: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0; let max = 0; let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) { max = depth; if (max > limit) return max; } }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** a \uD800-\uDFFF escape somewhere: only then are the parsed strings worth checking */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** JSON.parse reviver: throws on a key or string value that is not well-formed UTF-16 */
function wellFormed(key: string, value: unknown): unknown {
  if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) throw new Error('lone surrogate');
  return value;
}

export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  // Nova accepts JSON only; anything else is 415 badMediaType rather than a confusing schema error
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(['application/json', 'application/openstack-images-v2.1-json-patch'], { parseAs: 'buffer' }, (_req, body, done) => {
    const malformed = () => done(new ApiError('malformed_body', 'Malformed request body'), undefined);
    let s: string;
    try { s = utf8.decode(body as Buffer).trim(); } catch { return malformed(); }
    if (s === '') return done(null, undefined);
    if (jsonDepth(s) > MAX_JSON_DEPTH) return malformed();
    try { done(null, SURROGATE_ESCAPE.test(s) ? JSON.parse(s, wellFormed) : JSON.parse(s)); } catch { malformed(); }
  });
}

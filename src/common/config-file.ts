/**
 * Config files are checked against a typebox schema before anything starts: the first problem is reported with the
 * file, the JSON pointer of the bad key and the value found, e.g.
 *
 *   controller.json: /agents/0/url: expected string, got 42
 *   agent.json: /listenPrt: unknown key
 *
 * Schemas reject unknown keys (additionalProperties: false), so a misspelt key is an error, not a silent default.
 * src/common imports nothing of the project; every part may import it.
 */
import { readFileSync } from 'node:fs';
import { Kind, Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/** pino's levels */
export const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** keys whose values are never echoed in an error */
const SECRET_KEY = /password|secret|key$/i;

function shown(path: string, v: unknown): string {
  if (v === undefined) return 'nothing';
  if (SECRET_KEY.test(path.slice(path.lastIndexOf('/') + 1)) && typeof v === 'string') return 'a string (hidden)';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function expected(e: ValueError): string {
  const s = e.schema as TSchema & { anyOf?: TSchema[] };
  if (e.type === ValueErrorType.Union && s.anyOf?.every((x) => x[Kind] === 'Literal')) {
    return `expected one of ${s.anyOf.map((x) => JSON.stringify((x as TSchema & { const: unknown }).const)).join(', ')}`;
  }
  return e.message.charAt(0).toLowerCase() + e.message.slice(1);
}

function describe(e: ValueError): string {
  const at = e.path || '/';
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return `${at}: unknown key`;
  if (e.type === ValueErrorType.ObjectRequiredProperty) return `${at}: required key missing`;
  return `${at}: ${expected(e)}, got ${shown(e.path, e.value)}`;
}

/** `value` as the schema's type, or a ConfigError naming `source`, the key path and the bad value */
export function checkConfig<T extends TSchema>(schema: T, value: unknown, source: string): Static<T> {
  const first = Value.Errors(schema, value).First();
  if (first) throw new ConfigError(`${source}: ${describe(first)}`);
  return value as Static<T>;
}

/** reads and checks a JSON config file; errors name the file as given */
export function readConfigFile<T extends TSchema>(schema: T, file: string): Static<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: ${err instanceof SyntaxError ? `not valid JSON: ${err.message}` : (err as Error).message}`);
  }
  return checkConfig(schema, raw, file);
}

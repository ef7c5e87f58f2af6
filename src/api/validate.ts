/**
 * Body validation with TypeBox schemas compiled once. Validation runs in the handler (not as a fastify route
 * schema) because Nova's schemas differ per microversion; the first error becomes a Nova-style 400.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema, Static } from '@sinclair/typebox';
import { badRequest } from '../controller/errors.js';

const cache = new WeakMap<TSchema, TypeCheck<TSchema>>();

function compiled<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = cache.get(schema);
  if (!c) { c = TypeCompiler.Compile(schema); cache.set(schema, c); }
  return c as TypeCheck<T>;
}

/** Throws 400 "Invalid input for field/attribute <field>. Value: <v>. <why>" (Nova's wording) */
export function check<T extends TSchema>(schema: T, value: unknown): Static<T> {
  const c = compiled(schema);
  if (c.Check(value)) return value as Static<T>;
  // report the deepest error first: it names the offending field rather than a containing union
  const errors = [...c.Errors(value)];
  errors.sort((a, b) => b.path.length - a.path.length);
  const e = errors[0]!;
  const segs = e.path.split('/').filter(Boolean);
  let field = segs.length ? segs[segs.length - 1]! : 'body';
  if (field.length > 255) field = `${field.slice(0, 255)}...`;
  let shown: string;
  try { shown = JSON.stringify(e.value) ?? 'None'; } catch { shown = String(e.value); }
  if (shown.length > 200) shown = `${shown.slice(0, 200)}...`;
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${shown}. ${e.message}`);
}

export const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

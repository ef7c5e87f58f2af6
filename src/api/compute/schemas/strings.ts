/**
 * The strings of Nova's parameter_types that clients name things with: names, tags and lock reasons are
 * printable (Nova's _is_printable: no character of a C* category - controls, format characters, surrogates,
 * private use - and no line or paragraph separator); metadata keys are 1-255 characters without those, values
 * at most 255 without NUL. Lone surrogates never get this far (json-parser.ts).
 */
import { Type, FormatRegistry } from '@sinclair/typebox';

const NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
if (!FormatRegistry.Has('printable')) FormatRegistry.Set('printable', (v) => !NOT_PRINTABLE.test(v));

/**
 * The same rule as a pattern without the `u` flag (TypeBox compiles record keys' patterns without it): controls,
 * separators and the format characters of the Basic Multilingual Plane; surrogate pairs (emoji) stay allowed.
 */
const NOT_PRINTABLE_BMP = '\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ue000-\\uf8ff\\ufeff\\ufff9-\\ufffb';

export const printable = (opts: { minLength?: number; maxLength: number; pattern?: string }) => Type.String({ ...opts, format: 'printable' });
export const Name = printable({ minLength: 1, maxLength: 255 });
export const Tag = printable({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' });
export const Metadata = Type.Record(
  Type.String({ pattern: `^[^${NOT_PRINTABLE_BMP}]{1,255}$` }),
  Type.String({ maxLength: 255, pattern: '^[^\\u0000]*$' }),
  { additionalProperties: false },
);

/**
 * The strings of Nova's parameter_types that clients name things with: names, tags and lock reasons are
 * printable (Nova's _is_printable: no character of a C* category - controls, format characters, surrogates,
 * private use - and no line or paragraph separator); metadata keys are Nova's 1-255 of [a-zA-Z0-9-_:. ], values
 * at most 255 without NUL. Lone surrogates never get this far (json-parser.ts).
 */
import { Type, FormatRegistry, type TSchema } from '@sinclair/typebox';

const NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
if (!FormatRegistry.Has('printable')) FormatRegistry.Set('printable', (v) => !NOT_PRINTABLE.test(v));

export const printable = (opts: { minLength?: number; maxLength: number; pattern?: string }) => Type.String({ ...opts, format: 'printable' });
export const Name = printable({ minLength: 1, maxLength: 255 });
export const Tag = printable({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' });
/**
 * Nova's metadata (parameter_types.metadata): keys of 1 to 255 of `[a-zA-Z0-9-_:. ]`, nothing else. A pattern, not
 * a key schema's minLength/maxLength (TypeBox's Record drops those), and other keys refused.
 */
export const metadataOf = <V extends TSchema>(value: V) => Type.Record(Type.String({ pattern: '^[a-zA-Z0-9-_:. ]{1,255}$' }), value, { additionalProperties: false });
/** values: at most 255 characters, never NUL */
export const Metadata = metadataOf(Type.String({ maxLength: 255, pattern: '^[^\\u0000]*$' }));

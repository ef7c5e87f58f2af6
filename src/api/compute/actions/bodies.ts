/** Action bodies that clients send as `null` or `{}` (both accepted, as Nova does). */
import { Type } from '@sinclair/typebox';

export const Empty = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })]);

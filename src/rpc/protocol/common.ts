import { Type, type Static } from '@sinclair/typebox';
import { ERROR_CODES } from '../errors.js';

export const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
/** request ids are opaque to the agent (the controller uses req-<uuid> like Nova) */
export const RequestId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });

export const PowerState = Type.Union([
  Type.Literal('nostate'), Type.Literal('running'), Type.Literal('paused'),
  Type.Literal('shutdown'), Type.Literal('crashed'), Type.Literal('suspended'),
]);
export type PowerState = Static<typeof PowerState>;

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
    message: Type.String(),
    requestId: Type.Optional(Type.String()),
    cause: Type.Optional(Type.String()),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** resize (202), confirmResize (204), revertResize (202). */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import type { ActionTable } from './types.js';
import { Empty } from './bodies.js';

const Resize = Type.Object({
  flavorRef: Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })]),
  'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
}, { additionalProperties: false });

export const resizeActions: ActionTable = {
  resize: async ({ req, reply, id, body, d }) => {
    const b = check(Resize, body);
    await d.compute.actions.resize(req.ctx, id, String(b.flavorRef).replace(/\/+$/, '').split('/').pop()!);
    reply.code(202);
  },
  confirmResize: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.confirmResize(req.ctx, id); reply.code(204); },
  revertResize: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.revertResize(req.ctx, id); reply.code(202); },
};

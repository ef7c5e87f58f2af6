/** os-start, os-stop, reboot, pause, unpause, suspend, resume: 202 with no body. */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import type { ActionTable } from './types.js';
import { Empty } from './bodies.js';

const Reboot = Type.Object({
  type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((t) => Type.Literal(t))),
}, { additionalProperties: false });

export const powerActions: ActionTable = {
  'os-start': async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.start(req.ctx, id); reply.code(202); },
  'os-stop': async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.stop(req.ctx, id); reply.code(202); },
  pause: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.pause(req.ctx, id); reply.code(202); },
  unpause: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.unpause(req.ctx, id); reply.code(202); },
  suspend: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.suspend(req.ctx, id); reply.code(202); },
  resume: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.resume(req.ctx, id); reply.code(202); },
  reboot: async ({ req, reply, id, body, d }) => {
    const b = check(Reboot, body);
    await d.compute.actions.reboot(req.ctx, id, b.type.toUpperCase() === 'HARD');
    reply.code(202);
  },
};

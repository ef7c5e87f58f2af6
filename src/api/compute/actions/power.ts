/**
 * os-start, os-stop, reboot, pause, unpause, suspend, resume: 202 with no body. Each names a single-host task
 * (src/controller/tasks/defs/power.ts); a new one is a definition there plus one line here.
 */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import type { SimpleTaskKind } from '../../../controller/tasks/registry.js';
import type { ActionHandler, ActionTable } from './types.js';
import { Empty } from './bodies.js';

const Reboot = Type.Object({
  type: Type.Union(['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'].map((t) => Type.Literal(t))),
}, { additionalProperties: false });

/** an action with an empty body that starts task `kind` */
const simple = (kind: SimpleTaskKind): ActionHandler => async ({ req, reply, id, body, d }) => {
  check(Empty, body);
  await d.compute.actions.run(req.ctx, id, kind);
  reply.code(202);
};

export const powerActions: ActionTable = {
  'os-start': simple('start'),
  'os-stop': simple('stop'),
  pause: simple('pause'),
  unpause: simple('unpause'),
  suspend: simple('suspend'),
  resume: simple('resume'),
  reboot: async ({ req, reply, id, body, d }) => {
    const b = check(Reboot, body);
    await d.compute.actions.run(req.ctx, id, b.type.toUpperCase() === 'HARD' ? 'reboot_hard' : 'reboot_soft');
    reply.code(202);
  },
};

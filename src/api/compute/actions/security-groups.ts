/** addSecurityGroup / removeSecurityGroup {"name": <group name or id>}: 202. */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import type { ActionTable } from './types.js';

const Group = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) });

export const securityGroupActions: ActionTable = {
  addSecurityGroup: async ({ req, reply, id, body, d }) => {
    const b = check(Group, body);
    await d.compute.network.servers.changeServerGroup(req.ctx, await d.compute.servers.get(req.ctx, id), b.name, true);
    reply.code(202);
  },
  removeSecurityGroup: async ({ req, reply, id, body, d }) => {
    const b = check(Group, body);
    await d.compute.network.servers.changeServerGroup(req.ctx, await d.compute.servers.get(req.ctx, id), b.name, false);
    reply.code(202);
  },
};

/** rebuild: 202 with the server view (views/server.ts rebuildView) plus adminPass. Fields by version: description 2.19, key_name 2.54, user_data 2.57, hostname 2.90. */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { Metadata, Name } from '../schemas/strings.js';
import { rebuildView } from '../views/server.js';
import { badRequest } from '../../../controller/errors.js';
import type { ActionTable } from './types.js';
import { randomBytes } from 'node:crypto';

const Rebuild = Type.Object({
  imageRef: Type.String({ minLength: 1 }),
  name: Type.Optional(Name),
  adminPass: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
  preserve_ephemeral: Type.Optional(Type.Boolean()),
  'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
  accessIPv4: Type.Optional(Type.String({ format: 'ipv4' })),
  accessIPv6: Type.Optional(Type.String({ format: 'ipv6' })),
  personality: Type.Optional(Type.Array(Type.Unknown())),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  key_name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])),
  user_data: Type.Optional(Type.Union([Type.String({ maxLength: 65535 }), Type.Null()])),
  trusted_image_certificates: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
}, { additionalProperties: false });

const SINCE: Record<string, string> = { description: '2.19', key_name: '2.54', user_data: '2.57', trusted_image_certificates: '2.63', hostname: '2.90' };

export const rebuildActions: ActionTable = {
  rebuild: async ({ req, reply, id, body, d }) => {
    const b = check(Rebuild, body);
    for (const [k, v] of Object.entries(SINCE)) {
      if (k in b && !atLeast(req, v)) throw badRequest(`Invalid input for field/attribute rebuild. Additional properties are not allowed ('${k}' was unexpected)`);
    }
    const adminPass = b.adminPass ?? randomBytes(9).toString('base64url');
    const s = await d.compute.actions.rebuild(req.ctx, id, {
      adminPass,
      imageRef: b.imageRef.replace(/\/+$/, '').split('/').pop()!,
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
      ...(b.accessIPv4 !== undefined ? { accessIPv4: b.accessIPv4 } : {}),
      ...(b.accessIPv6 !== undefined ? { accessIPv6: b.accessIPv6 } : {}),
      ...(b.key_name !== undefined ? { keyName: b.key_name } : {}),
      ...(b.user_data !== undefined ? { userData: b.user_data } : {}),
      ...(b['OS-DCF:diskConfig'] !== undefined ? { diskConfig: b['OS-DCF:diskConfig'] } : {}),
    });
    reply.code(202);
    return { server: { ...rebuildView(req, d.urls, s, (h) => d.compute.hosts.statusOf(h), atLeast(req, '2.71') ? await d.compute.serverGroups.groupsOf(s.id) : []), adminPass } };
  },
};

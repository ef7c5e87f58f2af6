/**
 * createBackup (Nova's create_backup.py): 202 with a Location header (only when rotation > 0) before 2.45,
 * 202 {"image_id"} from 2.45. `rotation` is a non-negative integer or a string of digits.
 */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { Metadata, Name } from '../schemas/strings.js';
import type { ActionTable } from './types.js';

const CreateBackup = Type.Object({
  name: Name,
  backup_type: Type.String(),
  rotation: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]),
  metadata: Type.Optional(Metadata),
}, { additionalProperties: false });

export const backupActions: ActionTable = {
  createBackup: async ({ req, reply, id, body, d }) => {
    const b = check(CreateBackup, body);
    const rotation = Number(b.rotation);
    const imageId = await d.compute.actions.createBackup(req.ctx, id, { name: b.name, backupType: b.backup_type, rotation, metadata: b.metadata ?? {} });
    reply.code(202);
    if (atLeast(req, '2.45')) return { image_id: imageId };
    // Nova's Location here is the compute API's images path (req.application_url), not Glance's
    if (rotation > 0) reply.header('Location', `${d.urls.versioned}/images/${imageId}`);
    return undefined;
  },
};

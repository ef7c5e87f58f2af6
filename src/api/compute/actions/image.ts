/** createImage: 202 with a Location header before 2.45, 202 {"image_id"} from 2.45. */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { Metadata, Name } from '../schemas/strings.js';
import type { ActionTable } from './types.js';

const CreateImage = Type.Object({
  name: Name,
  metadata: Type.Optional(Metadata),
}, { additionalProperties: false });

export const imageActions: ActionTable = {
  createImage: async ({ req, reply, id, body, d }) => {
    const b = check(CreateImage, body);
    const imageId = await d.compute.actions.createImage(req.ctx, id, b.name, b.metadata ?? {});
    reply.code(202);
    if (atLeast(req, '2.45')) return { image_id: imageId };
    reply.header('Location', `${d.urls.image}/v2/images/${imageId}`);
    return undefined;
  },
};

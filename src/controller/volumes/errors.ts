/** Cinder's client-visible messages (cinder/exception.py), as typed errors the API maps to Cinder's bodies. */
import { ApiError, badRequest, notFound } from '../errors.js';

export const volumeNotFound = (id: string) => notFound(`Volume ${id} could not be found.`);
export const snapshotNotFound = (id: string) => notFound(`Snapshot ${id} could not be found.`);
export const typeNotFound = (id: string) => notFound(`Volume type ${id} could not be found.`);
export const attachmentNotFound = (id: string) => notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
/** cinder.exception.InvalidVolume (400) */
export const invalidVolume = (reason: string) => badRequest(`Invalid volume: ${reason}`);
export const invalidSnapshot = (reason: string) => badRequest(`Invalid snapshot: ${reason}`);
/** cinder.exception.InvalidInput (400) */
export const invalidInput = (reason: string) => badRequest(`Invalid input received: ${reason}`);
/** Cinder answers quota failures with 413 */
export const overQuota = (message: string) => new ApiError('over_quota', message, 413);

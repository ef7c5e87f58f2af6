/**
 * Admin actions: os-resetState, migrate (cold, tasks/defs/migration.ts), os-migrateLive (tasks/defs/live-migration.ts),
 * evacuate (tasks/defs/evacuate.ts).
 */
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { badRequest } from '../../../controller/errors.js';
import type { ActionTable } from './types.js';
import { enforce } from '../../../controller/policy/policy.js';

const ResetState = Type.Object({ state: Type.Union([Type.Literal('active'), Type.Literal('error')]) }, { additionalProperties: false });
const Migrate = Type.Union([Type.Null(), Type.Object({ host: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()])) }, { additionalProperties: false })]);
const LiveMigrate = Type.Object({
  host: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]),
  block_migration: Type.Union([Type.Boolean(), Type.Literal('auto'), Type.String()]),
  disk_over_commit: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  force: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
const Evacuate = Type.Object({
  host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  adminPass: Type.Optional(Type.String()),
  onSharedStorage: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  force: Type.Optional(Type.Boolean()),
  targetState: Type.Optional(Type.String()),
}, { additionalProperties: false });


const TRUE = ['true', '1', 'on', 'yes'];
const FALSE = ['false', '0', 'off', 'no'];

/** Nova's parameter_types.boolean: a JSON boolean or one of its spellings */
function novaBoolean(v: boolean | string, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (TRUE.includes(v.toLowerCase())) return true;
  if (FALSE.includes(v.toLowerCase())) return false;
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${v}. '${v}' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']`);
}

export const adminActions: ActionTable = {
  'os-resetState': async ({ req, reply, id, body, d }) => {
    enforce(req.ctx, 'os_compute_api:os-admin-actions:reset_state');
    const b = check(ResetState, body);
    await d.compute.actions.resetState(req.ctx, id, b.state);
    reply.code(202);
  },
  migrate: async ({ req, reply, id, body, d }) => {
    enforce(req.ctx, 'os_compute_api:os-migrate-server:migrate');
    const b = check(Migrate, body);
    if (b && b.host !== undefined && !atLeast(req, '2.56')) throw badRequest("Invalid input for field/attribute migrate. Additional properties are not allowed ('host' was unexpected)");
    await d.compute.actions.migrate(req.ctx, id, b?.host ?? undefined);
    reply.code(202);
  },
  'os-migrateLive': async ({ req, reply, id, body, d }) => {
    enforce(req.ctx, 'os_compute_api:os-migrate-server:migrate_live');
    const b = check(LiveMigrate, body);
    // block_migration "auto" exists from 2.25; disk_over_commit is gone from 2.25; force from 2.30 until 2.67
    if (b.block_migration === 'auto' && !atLeast(req, '2.25')) throw badRequest("Invalid input for field/attribute block_migration. Value: auto. 'auto' is not of type 'boolean'");
    if (b.disk_over_commit !== undefined && atLeast(req, '2.25')) throw badRequest("Invalid input for field/attribute os-migrateLive. Additional properties are not allowed ('disk_over_commit' was unexpected)");
    if (b.force !== undefined && (!atLeast(req, '2.30') || atLeast(req, '2.68'))) throw badRequest("Invalid input for field/attribute os-migrateLive. Additional properties are not allowed ('force' was unexpected)");
    const block = b.block_migration === 'auto' ? 'auto' : novaBoolean(b.block_migration, 'block_migration');
    if (b.disk_over_commit !== undefined) novaBoolean(b.disk_over_commit, 'disk_over_commit'); // validated, ignored (Nova's libvirt driver)
    await d.compute.actions.liveMigrate(req.ctx, id, { blockMigration: block, ...(b.host ? { host: b.host } : {}), ...(b.force !== undefined ? { force: b.force } : {}) });
    reply.code(202);
  },
  evacuate: async ({ req, id, body, d }) => {
    enforce(req.ctx, 'os_compute_api:os-evacuate');
    const b = check(Evacuate, body);
    if (b.onSharedStorage !== undefined && atLeast(req, '2.14')) throw badRequest("Invalid input for field/attribute evacuate. Additional properties are not allowed ('onSharedStorage' was unexpected)");
    if (b.onSharedStorage === undefined && !atLeast(req, '2.14')) throw badRequest("Invalid input for field/attribute evacuate. Value: {}. 'onSharedStorage' is a required property");
    if (b.force !== undefined && (!atLeast(req, '2.29') || atLeast(req, '2.68'))) throw badRequest("Invalid input for field/attribute evacuate. Additional properties are not allowed ('force' was unexpected)");
    if (b.targetState !== undefined) throw badRequest("Invalid input for field/attribute evacuate. Additional properties are not allowed ('targetState' was unexpected)");
    const shared = b.onSharedStorage !== undefined ? novaBoolean(b.onSharedStorage, 'onSharedStorage') : undefined;
    // Nova: a password cannot be set on a disk that is kept; one is generated for a rebuilt one (before 2.14)
    if (shared && b.adminPass !== undefined) throw badRequest("admin password can't be changed on existing disk");
    const password = b.adminPass ?? (shared ? null : randomBytes(9).toString('base64url'));
    await d.compute.actions.evacuate(req.ctx, id, {
      ...(b.host !== undefined ? { host: b.host } : {}), ...(b.force !== undefined ? { force: b.force } : {}),
      ...(shared !== undefined ? { onSharedStorage: shared } : {}), ...(password ? { adminPass: password } : {}),
    });
    // 200; the password is answered only before 2.14; the guest finds it on its config drive (meta_data.json admin_pass)
    return atLeast(req, '2.14') ? undefined : { adminPass: password };
  },
};

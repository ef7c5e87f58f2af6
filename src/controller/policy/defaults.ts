/**
 * Nova's default policy (the "new defaults", admin / member / reader, project scope) for the rules novalet
 * enforces. A policy file (`policyFile` in the controller config) overrides any of them; a rule it names that is
 * not here is added (other rules may refer to it).
 */
const ADMIN = 'rule:admin_api';
const MEMBER = 'rule:project_member_or_admin';
const READER = 'rule:project_reader_or_admin';

export const BASE_RULES: Record<string, string> = {
  context_is_admin: 'role:admin',
  admin_api: 'role:admin',
  project_member_api: 'role:member and project_id:%(project_id)s',
  project_reader_api: 'role:reader and project_id:%(project_id)s',
  project_member_or_admin: 'rule:project_member_api or rule:context_is_admin',
  project_reader_or_admin: 'rule:project_reader_api or rule:context_is_admin',
};

const p = (names: string[], check: string) => Object.fromEntries(names.map((n) => [n, check]));

export const API_RULES: Record<string, string> = {
  ...p([
    'os_compute_api:os-admin-actions:reset_state', 'os_compute_api:os-migrate-server:migrate', 'os_compute_api:os-migrate-server:migrate_live',
    'os_compute_api:os-evacuate', 'os_compute_api:servers:detail:get_all_tenants', 'os_compute_api:servers:index:get_all_tenants',
    'os_compute_api:os-quota-sets:update', 'os_compute_api:os-availability-zone:detail', 'os_compute_api:os-migrations:index',
    'os_compute_api:os-keypairs:index', 'os_compute_api:os-simple-tenant-usage:list', 'os_compute_api:os-aggregates:index',
    'os_compute_api:os-aggregates:create', 'os_compute_api:os-aggregates:show', 'os_compute_api:os-aggregates:update',
    'os_compute_api:os-aggregates:delete', 'os_compute_api:os-aggregates:add_host', 'os_compute_api:os-aggregates:remove_host',
    'os_compute_api:os-aggregates:set_metadata',
    'os_compute_api:os-lock-server:unlock:unlock_override', 'os_compute_api:servers:create:forced_host',
    'compute:servers:create:requested_destination', 'os_compute_api:os-services:list', 'os_compute_api:os-services:update',
    'os_compute_api:os-services:delete', 'os_compute_api:os-flavor-manage:create', 'os_compute_api:os-flavor-manage:update',
    'os_compute_api:os-flavor-manage:delete', 'os_compute_api:os-flavor-extra-specs:create', 'os_compute_api:os-flavor-extra-specs:update',
    'os_compute_api:os-flavor-extra-specs:delete', 'os_compute_api:os-flavor-access:add_tenant_access',
    'os_compute_api:os-flavor-access:remove_tenant_access', 'os_compute_api:os-flavor-access',
    'os_compute_api:os-hypervisors:list', 'os_compute_api:os-hypervisors:list-detail', 'os_compute_api:os-hypervisors:show',
    'os_compute_api:os-hypervisors:statistics', 'os_compute_api:os-hypervisors:search', 'os_compute_api:os-hypervisors:servers',
    'os_compute_api:os-hypervisors:uptime', 'os_compute_api:os-shelve:shelve_offload', 'os_compute_api:servers:migrations:index',
    'os_compute_api:servers:migrations:show', 'os_compute_api:servers:migrations:delete', 'os_compute_api:servers:migrations:force_complete',
  ], ADMIN),
  ...p(['os_compute_api:os-quota-sets:show', 'os_compute_api:os-simple-tenant-usage:show'], READER),
  ...p([
    'os_compute_api:servers:start', 'os_compute_api:servers:stop', 'os_compute_api:servers:reboot', 'os_compute_api:servers:resize',
    'os_compute_api:servers:confirm_resize', 'os_compute_api:servers:revert_resize', 'os_compute_api:servers:create_image',
    'os_compute_api:servers:rebuild', 'os_compute_api:servers:delete', 'os_compute_api:os-pause-server:pause',
    'os_compute_api:os-pause-server:unpause', 'os_compute_api:os-suspend-server:suspend', 'os_compute_api:os-suspend-server:resume',
    'os_compute_api:os-lock-server:lock', 'os_compute_api:os-lock-server:unlock', 'os_compute_api:os-deferred-delete:restore',
    'os_compute_api:os-deferred-delete:force', 'os_compute_api:os-create-backup', 'os_compute_api:os-shelve:shelve',
    'os_compute_api:os-shelve:unshelve', 'os_compute_api:os-attach-interfaces:create', 'os_compute_api:os-attach-interfaces:delete', 'os_compute_api:os-volumes-attachments:create', 'os_compute_api:os-volumes-attachments:delete',
  ], MEMBER),
};

/** the policy rule of each action of the server state machine (controller/compute/states.ts names) */
export const ACTION_POLICY: Record<string, string> = {
  start: 'os_compute_api:servers:start', stop: 'os_compute_api:servers:stop', reboot: 'os_compute_api:servers:reboot',
  pause: 'os_compute_api:os-pause-server:pause', unpause: 'os_compute_api:os-pause-server:unpause',
  suspend: 'os_compute_api:os-suspend-server:suspend', resume: 'os_compute_api:os-suspend-server:resume',
  resize: 'os_compute_api:servers:resize', confirmResize: 'os_compute_api:servers:confirm_resize',
  revertResize: 'os_compute_api:servers:revert_resize', createImage: 'os_compute_api:servers:create_image',
  rebuild: 'os_compute_api:servers:rebuild', migrate: 'os_compute_api:os-migrate-server:migrate',
  'os-migrateLive': 'os_compute_api:os-migrate-server:migrate_live', evacuate: 'os_compute_api:os-evacuate',
  restore: 'os_compute_api:os-deferred-delete:restore', forceDelete: 'os_compute_api:os-deferred-delete:force',
  createBackup: 'os_compute_api:os-create-backup', shelve: 'os_compute_api:os-shelve:shelve',
  shelveOffload: 'os_compute_api:os-shelve:shelve_offload', unshelve: 'os_compute_api:os-shelve:unshelve',
  attach_interface: 'os_compute_api:os-attach-interfaces:create', detach_interface: 'os_compute_api:os-attach-interfaces:delete',
  attach_volume: 'os_compute_api:os-volumes-attachments:create', detach_volume: 'os_compute_api:os-volumes-attachments:delete',
};

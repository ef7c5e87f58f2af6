/**
 * Security groups until the networking issue: every project has its `default` group (as in Neutron), with a
 * stable id derived from the project, listed read-only so that `openstack server create --security-group default`
 * resolves it (the client then sends the group's id to compute). novalet does not filter traffic yet: the group
 * has no rules and says so in its description.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_GROUP = 'default';

export function defaultSecurityGroupId(projectId: string): string {
  const h = createHash('sha1').update(`security-group/default/${projectId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function defaultSecurityGroup(projectId: string) {
  return {
    id: defaultSecurityGroupId(projectId), name: DEFAULT_GROUP, project_id: projectId, tenant_id: projectId,
    description: 'Default security group (novalet does not filter traffic yet)', security_group_rules: [],
    stateful: true, shared: false, tags: [], revision_number: 1, created_at: '1970-01-01T00:00:00Z', updated_at: '1970-01-01T00:00:00Z',
  };
}

/** compute create: clients send a group's name or (openstack, resolved through the network API) its id */
export function securityGroupName(projectId: string, nameOrId: string): string {
  return nameOrId === defaultSecurityGroupId(projectId) ? DEFAULT_GROUP : nameOrId;
}

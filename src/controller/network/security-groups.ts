/**
 * Security groups and rules (Neutron). Every project has a `default` group, created with Neutron's default rules
 * the first time the project lists or uses groups: all egress, and ingress from members of the group itself.
 */
import { randomUUID } from 'node:crypto';
import type { SecurityGroup, SecurityGroupRule, Store } from '../../store/index.js';
import { isAdmin, isAdminOrOwner, type RequestContext } from '../context.js';
import { NeutronError, defaultGroupUndeletable, invalidInput, policy, ruleExists, ruleNotFound, securityGroupInUse, securityGroupNotFound } from './errors.js';
import { int, nullableStr, str, type Body } from './input.js';
import { parseCidr } from './ip-math.js';
import type { NetworkQuotas } from './quotas.js';

export const DEFAULT_GROUP = 'default';

/** Neutron's protocol names and their IP protocol numbers */
const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, gre: 47, esp: 50, ah: 51, vrrp: 112, igmp: 2, dccp: 33 };
const PORTS = new Set(['tcp', 'udp', 'sctp', 'dccp', '6', '17', '132', '33']);

export class SecurityGroupService {
  constructor(private readonly store: Store, private readonly quotas: NetworkQuotas) {}

  /** the project's default group (created on first use) */
  async defaultGroup(projectId: string): Promise<SecurityGroup> {
    const existing = await this.store.defaultSecurityGroupOf(projectId);
    const g = existing ? await this.store.getSecurityGroup(existing) : null;
    if (g) return g;
    const t = new Date().toISOString();
    const id = randomUUID();
    const rule = (direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6'): SecurityGroupRule => ({
      id: randomUUID(), securityGroupId: id, projectId, direction, ethertype, protocol: null, portRangeMin: null, portRangeMax: null,
      remoteIpPrefix: null, remoteGroupId: direction === 'ingress' ? id : null, description: '', createdAt: t,
    });
    return this.store.ensureDefaultSecurityGroup(
      { id, projectId, name: DEFAULT_GROUP, description: 'Default security group', stateful: true, createdAt: t, updatedAt: t },
      [rule('egress', 'IPv4'), rule('egress', 'IPv6'), rule('ingress', 'IPv4'), rule('ingress', 'IPv6')],
    );
  }

  async groups(ctx: RequestContext): Promise<SecurityGroup[]> {
    await this.defaultGroup(ctx.projectId);
    return this.store.listSecurityGroups(isAdmin(ctx) ? undefined : ctx.projectId);
  }

  async group(ctx: RequestContext, id: string): Promise<SecurityGroup> {
    const g = await this.store.getSecurityGroup(id);
    if (!g || !isAdminOrOwner(ctx, g.projectId)) throw securityGroupNotFound(id);
    return g;
  }

  /** a group named by id or (compute's create) by name in the caller's project; null when none */
  async resolve(ctx: RequestContext, projectId: string, nameOrId: string): Promise<SecurityGroup | null> {
    if (nameOrId === DEFAULT_GROUP) return this.defaultGroup(projectId);
    const byId = await this.store.getSecurityGroup(nameOrId);
    if (byId && (isAdmin(ctx) || byId.projectId === projectId)) return byId;
    const named = (await this.store.listSecurityGroups(projectId)).filter((g) => g.name === nameOrId);
    return named.length === 1 ? named[0]! : null;
  }

  rules(groupIds?: string[]): Promise<SecurityGroupRule[]> { return this.store.listSecurityGroupRules(groupIds); }

  async create(ctx: RequestContext, b: Body): Promise<SecurityGroup> {
    const projectId = str(b, 'project_id') ?? str(b, 'tenant_id') ?? ctx.projectId;
    if (projectId !== ctx.projectId && !isAdmin(ctx)) throw policy('create_security_group');
    const name = str(b, 'name') ?? '';
    if (name === DEFAULT_GROUP) throw new NeutronError('SecurityGroupDefaultAlreadyExists', 'conflict', 'Default security group already exists.');
    await this.defaultGroup(projectId);
    await this.quotas.check(projectId, 'security_group', (await this.store.listSecurityGroups(projectId)).length);
    const t = new Date().toISOString();
    const id = randomUUID();
    // Neutron's new group: egress allowed, nothing in
    const egress = (ethertype: 'IPv4' | 'IPv6'): SecurityGroupRule => ({
      id: randomUUID(), securityGroupId: id, projectId, direction: 'egress', ethertype, protocol: null, portRangeMin: null,
      portRangeMax: null, remoteIpPrefix: null, remoteGroupId: null, description: '', createdAt: t,
    });
    return this.store.createSecurityGroup({ id, projectId, name, description: str(b, 'description') ?? '', stateful: true, createdAt: t, updatedAt: t },
      [egress('IPv4'), egress('IPv6')]);
  }

  async update(ctx: RequestContext, id: string, b: Body): Promise<SecurityGroup> {
    const g = await this.group(ctx, id);
    const name = str(b, 'name');
    if (g.name === DEFAULT_GROUP && name !== undefined && name !== DEFAULT_GROUP) throw invalidInput('Updating default security group not allowed');
    return (await this.store.updateSecurityGroup(id, { name, description: str(b, 'description') }))!;
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const g = await this.group(ctx, id);
    if ((await this.store.defaultSecurityGroupOf(g.projectId)) === id && !isAdmin(ctx)) throw defaultGroupUndeletable();
    const r = await this.store.deleteSecurityGroup(id);
    if (r === 'in_use') throw securityGroupInUse(id);
    if (r === 'not_found') throw securityGroupNotFound(id);
  }

  async rule(ctx: RequestContext, id: string): Promise<SecurityGroupRule> {
    const r = await this.store.getSecurityGroupRule(id);
    if (!r || !isAdminOrOwner(ctx, r.projectId)) throw ruleNotFound(id);
    return r;
  }

  async createRule(ctx: RequestContext, b: Body): Promise<SecurityGroupRule> {
    const groupId = str(b, 'security_group_id');
    if (!groupId) throw invalidInput("Failed to parse request. Required attribute 'security_group_id' not specified");
    const g = await this.group(ctx, groupId);
    const direction = str(b, 'direction');
    if (direction !== 'ingress' && direction !== 'egress') throw invalidInput(`'${String(direction)}' is not in ['ingress', 'egress']`);
    const ethertype = str(b, 'ethertype') ?? 'IPv4';
    if (ethertype !== 'IPv4' && ethertype !== 'IPv6') throw invalidInput(`'${ethertype}' is not in ['IPv4', 'IPv6']`);
    let protocol = nullableStr(b, 'protocol') ?? null;
    if (protocol !== null) {
      protocol = protocol.toLowerCase();
      if (protocol === 'any') protocol = null;
      else if (!(protocol in PROTOCOLS) && !(/^\d{1,3}$/.test(protocol) && Number(protocol) <= 255)) {
        throw new NeutronError('SecurityGroupRuleInvalidProtocol', 'bad_request',
          `Security group rule protocol ${protocol} not supported. Only protocol values [${Object.keys(PROTOCOLS).join(', ')}] and integer representations [0 to 255] are supported.`);
      }
    }
    const min = int(b, 'port_range_min') ?? null;
    const max = int(b, 'port_range_max') ?? null;
    if (protocol !== null && PORTS.has(protocol)) {
      if ((min === null) !== (max === null) || (min !== null && max !== null && (min < 1 || max > 65535 || min > max))) {
        throw invalidInput('For TCP/UDP protocols, port_range_min must be <= port_range_max');
      }
    } else if (protocol === 'icmp' || protocol === 'icmpv6' || protocol === 'ipv6-icmp' || protocol === '1' || protocol === '58') {
      if ((min !== null && (min < 0 || min > 255)) || (max !== null && (max < 0 || max > 255)) || (max !== null && min === null)) {
        throw invalidInput('ICMP type (port-range-min) and code (port-range-max) must be 0-255, the code only with a type');
      }
    } else if (min !== null || max !== null) {
      throw invalidInput('Ports can only be specified for TCP, UDP, SCTP, DCCP and ICMP protocols');
    }
    const prefixText = nullableStr(b, 'remote_ip_prefix') ?? null;
    const remoteGroup = nullableStr(b, 'remote_group_id') ?? null;
    if (prefixText !== null && remoteGroup !== null) throw invalidInput('Only remote_ip_prefix or remote_group_id may be provided.');
    let prefix: string | null = null;
    if (prefixText !== null) {
      const c = parseCidr(prefixText.includes('/') ? prefixText : `${prefixText}/${prefixText.includes(':') ? 128 : 32}`);
      if (!c) throw invalidInput(`'${prefixText}' is not a valid IP subnet`);
      if ((c.version === 4) !== (ethertype === 'IPv4')) throw invalidInput(`Conflicting value ethertype ${ethertype} for CIDR ${prefixText}`);
      prefix = c.text;
    }
    if (remoteGroup !== null) await this.group(ctx, remoteGroup);
    await this.quotas.check(g.projectId, 'security_group_rule', (await this.store.listSecurityGroupRules((await this.store.listSecurityGroups(g.projectId)).map((x) => x.id))).length);
    const r: SecurityGroupRule = {
      id: randomUUID(), securityGroupId: groupId, projectId: g.projectId, direction, ethertype, protocol, portRangeMin: min, portRangeMax: max,
      remoteIpPrefix: prefix, remoteGroupId: remoteGroup, description: str(b, 'description') ?? '', createdAt: new Date().toISOString(),
    };
    if (!(await this.store.createSecurityGroupRule(r))) throw ruleExists();
    return r;
  }

  async deleteRule(ctx: RequestContext, id: string): Promise<void> {
    await this.rule(ctx, id);
    if (!(await this.store.deleteSecurityGroupRule(id))) throw ruleNotFound(id);
  }
}

/**
 * Neutron's typed errors: the status and message of Neutron's exception of the same name; the network API's edge
 * puts `type` in the NeutronError body, the compute API's edge shows the message in Nova's shape.
 */
import { ApiError, type ErrorCode } from '../errors.js';

export class NeutronError extends ApiError {
  constructor(readonly type: string, code: ErrorCode, message: string) { super(code, message); }
}

const nf = (type: string, m: string) => new NeutronError(type, 'not_found', m);
const cf = (type: string, m: string) => new NeutronError(type, 'conflict', m);

export const networkNotFound = (id: string) => nf('NetworkNotFound', `Network ${id} could not be found.`);
export const subnetNotFound = (id: string) => nf('SubnetNotFound', `Subnet ${id} could not be found.`);
export const portNotFound = (id: string) => nf('PortNotFound', `Port ${id} could not be found.`);
export const securityGroupNotFound = (id: string) => nf('SecurityGroupNotFound', `Security group ${id} does not exist`);
export const ruleNotFound = (id: string) => nf('SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
export const networkInUse = (id: string) => cf('NetworkInUse', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
export const subnetInUse = (id: string) => cf('SubnetInUse', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`);
export const portInUse = (port: string, net: string, device: string) =>
  cf('PortInUse', `Unable to complete operation on port ${port} for network ${net}. Port already has an attached device ${device}.`);
export const ipInUse = (ip: string, subnet: string) => cf('IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnet}`);
export const noMoreIps = (net: string) => cf('IpAddressGenerationFailure', `No more IP addresses available on network ${net}.`);
export const macInUse = (net: string, mac: string) => cf('MacAddressInUse', `Unable to complete operation for network ${net}. The mac address ${mac} is in use.`);
export const securityGroupInUse = (id: string) => cf('SecurityGroupInUse', `Security Group ${id} in use.`);
export const ruleExists = () => cf('SecurityGroupRuleExists', 'Security group rule already exists.');
export const defaultGroupUndeletable = () => cf('SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
export const invalidInput = (m: string) => new NeutronError('InvalidInput', 'bad_request', `Invalid input for operation: ${m}.`);
export const invalidIpForSubnet = (ip: string) => new NeutronError('InvalidIpForSubnet', 'bad_request', `IP address ${ip} is not a valid IP for the specified subnet.`);
export const policy = (rule: string) => new NeutronError('PolicyNotAuthorized', 'forbidden', `rule:${rule} is disallowed by policy`);
export const overQuota = (what: string) => new NeutronError('OverQuota', 'conflict', `Quota exceeded for resources: ['${what}'].`);

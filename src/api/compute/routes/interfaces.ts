/** /servers/{id}/os-interface: list, show, attach (port_id, net_id, fixed_ips), detach; /servers/{id}/os-security-groups. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { serverId } from './servers.js';
import { atLeast } from '../microversion.js';
import { badRequest } from '../../../controller/errors.js';
import { interfaceView } from '../../../controller/compute/interfaces.js';
import type { Port } from '../../../store/index.js';

type P = { Params: { id: string; port: string } };

function attachBody(b: unknown): { portId?: string; networkId?: string; fixedIps?: string[] } {
  const a = (b as { interfaceAttachment?: unknown } | null)?.interfaceAttachment;
  if (a === undefined || a === null) return {};
  if (typeof a !== 'object' || Array.isArray(a)) throw badRequest("Invalid input for field/attribute interfaceAttachment. Value: " + JSON.stringify(a) + ". is not of type 'object'");
  const x = a as Record<string, unknown>;
  const str = (k: string) => {
    if (x[k] === undefined) return undefined;
    if (typeof x[k] !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(x[k])}. ${JSON.stringify(x[k])} is not of type 'string'`);
    return x[k] as string;
  };
  let fixedIps: string[] | undefined;
  if (x.fixed_ips !== undefined) {
    if (!Array.isArray(x.fixed_ips) || x.fixed_ips.length > 1) throw badRequest('Invalid input for field/attribute fixed_ips. Value: ' + JSON.stringify(x.fixed_ips) + '. is too long or not an array');
    fixedIps = x.fixed_ips.map((f) => {
      const ip = (f as { ip_address?: unknown } | null)?.ip_address;
      if (typeof ip !== 'string') throw badRequest("Invalid input for field/attribute fixed_ips. 'ip_address' is a required property");
      return ip;
    });
  }
  const portId = str('port_id'); const networkId = str('net_id');
  return { ...(portId ? { portId } : {}), ...(networkId ? { networkId } : {}), ...(fixedIps ? { fixedIps } : {}) };
}

export function registerInterfaceRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const view = (req: FastifyRequest, p: Port) => ({ ...interfaceView(p), ...(atLeast(req, '2.70') ? { tag: null } : {}) });
  app.get<P>('/v2.1/servers/:id/os-interface', async (req) => ({
    interfaceAttachments: (await d.compute.interfaces.list(req.ctx, serverId(req))).map((p) => view(req, p)),
  }));
  app.get<P>('/v2.1/servers/:id/os-interface/:port', async (req) => ({
    interfaceAttachment: view(req, await d.compute.interfaces.show(req.ctx, serverId(req), req.params.port)),
  }));
  app.post<P>('/v2.1/servers/:id/os-interface', async (req) => ({
    interfaceAttachment: view(req, await d.compute.interfaces.attach(req.ctx, serverId(req), attachBody(req.body))),
  }));
  // the server's security groups in Nova's (proxy) shape
  app.get<P>('/v2.1/servers/:id/os-security-groups', async (req) => {
    const s = await d.compute.servers.get(req.ctx, serverId(req));
    const groups = await d.compute.network.servers.serverGroups(s);
    const rules = await d.compute.network.groups.rules(groups.map((g) => g.id));
    return {
      security_groups: groups.map((g) => ({
        id: g.id, name: g.name, description: g.description, tenant_id: g.projectId,
        rules: rules.filter((r) => r.securityGroupId === g.id && r.direction === 'ingress').map((r) => ({
          id: r.id, parent_group_id: g.id, ip_protocol: r.protocol, from_port: r.portRangeMin, to_port: r.portRangeMax,
          group: r.remoteGroupId ? { name: groups.find((x) => x.id === r.remoteGroupId)?.name ?? null, tenant_id: g.projectId } : {},
          ip_range: r.remoteIpPrefix ? { cidr: r.remoteIpPrefix } : {},
        })),
      })),
    };
  });
  app.delete<P>('/v2.1/servers/:id/os-interface/:port', async (req, reply) => {
    await d.compute.interfaces.detach(req.ctx, serverId(req), req.params.port);
    return reply.code(202).send();
  });
}

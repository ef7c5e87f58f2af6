import { AgentError } from '../../rpc/errors.js';
import { GiB } from '../disks/disk-tool.js';
import { CONFIG_DRIVE_TARGET, extraDiskPath, extraDiskSpec } from './domain-spec.js';
import { createOnce, xmlHasAlias, xmlHasDiskTarget } from './files.js';
import { defineCephSecrets } from './instance-disks.js';
import { requireStatus } from './helpers.js';
import { addDhcpEntries, dhcpEntries, removeDhcpEntries } from '../network/dhcp-hosts.js';
import type { OperationDef } from './types.js';

/**
 * attach/detach disk and NIC: live (if running) and persistent through the hypervisor; the server spec
 * in the journal follows, so later redefinitions (rebuild, resize) keep the devices. Each run first
 * looks at the domain XML, so a re-drive after a crash does not attach twice.
 */
/** vda is the root disk; vdb and vdc only when the flavor gives an ephemeral or swap disk (as Nova names devices) */
function fixedTargets(spec: { ephemeralGiB?: number; swapMiB?: number }): Set<string> {
  const out = new Set(['vda']);
  if ((spec.ephemeralGiB ?? 0) > 0) out.add('vdb');
  if ((spec.swapMiB ?? 0) > 0) out.add('vdc');
  return out;
}

export const attachDisk: OperationDef<'attach_disk'> = {
  kind: 'attach_disk',
  refusedWhenDrained: true,
  check(s, p) {
    const srv = requireStatus(s, ['active'], 'attach a disk to');
    if (fixedTargets(srv.spec).has(p.disk.target)) throw new AgentError('invalid_state', `target ${p.disk.target} is reserved for root/ephemeral/swap`);
    if (srv.spec.configDrive && p.disk.target === CONFIG_DRIVE_TARGET) throw new AgentError('invalid_state', `target ${p.disk.target} is the config drive`);
    if ((srv.spec.disks ?? []).some((d) => d.target === p.disk.target)) throw new AgentError('invalid_state', `target ${p.disk.target} is in use`);
    if (!p.disk.path && !p.disk.sizeGiB) throw new AgentError('bad_request', 'give a path (volume) or a sizeGiB (blank disk)');
  },
  async run(x) {
    const { hv, disks, journal, paths } = x.deps;
    const uuid = x.op.serverUuid;
    const d = x.params.disk;
    if (!d.path) {
      const file = extraDiskPath(paths, uuid, d);
      x.step('create_disk');
      journal.addFiles(uuid, [file]);
      await createOnce(file, (tmp) => disks.create(tmp, d.format ?? 'qcow2', (d.sizeGiB ?? 1) * GiB));
    }
    await defineCephSecrets(hv, [d]);
    x.step('attach');
    if (!xmlHasDiskTarget(await hv.getDomainXml(uuid), d.target)) await hv.attachDisk(uuid, extraDiskSpec(paths, uuid, d));
    const spec = x.server().spec;
    x.updateServer({ spec: { ...spec, disks: [...(spec.disks ?? []).filter((e) => e.target !== d.target), d] } });
    return { target: d.target, path: extraDiskPath(paths, uuid, d) };
  },
};

/** Detaching a blank disk the agent created keeps its file (deleted with the server): no silent data loss. */
export const detachDisk: OperationDef<'detach_disk'> = {
  kind: 'detach_disk',
  refusedWhenDrained: false,
  check(s, p) {
    const srv = requireStatus(s, ['active'], 'detach a disk from');
    if (!(srv.spec.disks ?? []).some((d) => d.target === p.target)) throw new AgentError('invalid_state', `no detachable disk ${p.target}`);
  },
  async run(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    x.step('detach');
    if (xmlHasDiskTarget(await hv.getDomainXml(uuid), x.params.target)) await hv.detachDisk(uuid, x.params.target);
    const spec = x.server().spec;
    x.updateServer({ spec: { ...spec, disks: (spec.disks ?? []).filter((d) => d.target !== x.params.target) } });
    return { target: x.params.target };
  },
};

export const attachNic: OperationDef<'attach_nic'> = {
  kind: 'attach_nic',
  refusedWhenDrained: true,
  check(s, p) {
    const srv = requireStatus(s, ['active'], 'attach a NIC to');
    if ((srv.spec.nics ?? []).some((n) => n.portId === p.nic.portId)) throw new AgentError('invalid_state', `port ${p.nic.portId} is already attached`);
  },
  async run(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    const dhcp = dhcpEntries([x.params.nic]);
    if (dhcp.length) {
      x.step('network');
      await addDhcpEntries(hv, dhcp);
    }
    const nets = x.deps.networks;
    if (x.params.nic.attachment.type === 'tenant') {
      x.step('port_filter');
      nets.checkNics([x.params.nic]);
      await nets.applyPortFilter(x.params.nic);
    }
    x.step('attach');
    try {
      if (!xmlHasAlias(await hv.getDomainXml(uuid), `ua-${x.params.nic.portId}`)) await hv.attachNic(uuid, nets.resolveNic(x.params.nic));
    } catch (err) {
      // the port is not attached: its address is not reserved and its filter not kept either (the operation still fails)
      await removeDhcpEntries(hv, dhcp).catch((e: unknown) => x.log.warn({ err: e }, 'dhcp entry cleanup failed'));
      await nets.removePortFilter(x.params.nic).catch((e: unknown) => x.log.warn({ err: e }, 'port filter cleanup failed'));
      throw err;
    }
    const spec = x.server().spec;
    x.updateServer({ spec: { ...spec, nics: [...(spec.nics ?? []).filter((n) => n.portId !== x.params.nic.portId), x.params.nic] } });
    return { portId: x.params.nic.portId };
  },
};

export const detachNic: OperationDef<'detach_nic'> = {
  kind: 'detach_nic',
  refusedWhenDrained: false,
  check(s, p) {
    const srv = requireStatus(s, ['active'], 'detach a NIC from');
    if (!(srv.spec.nics ?? []).some((n) => n.portId === p.portId)) throw new AgentError('invalid_state', `port ${p.portId} is not attached`);
  },
  async run(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    x.step('detach');
    if (xmlHasAlias(await hv.getDomainXml(uuid), `ua-${x.params.portId}`)) await hv.detachNic(uuid, x.params.portId);
    const spec = x.server().spec;
    const dhcp = dhcpEntries((spec.nics ?? []).filter((n) => n.portId === x.params.portId));
    if (dhcp.length) {
      x.step('network');
      await removeDhcpEntries(hv, dhcp);
    }
    for (const n of (spec.nics ?? []).filter((e) => e.portId === x.params.portId)) await x.deps.networks.removePortFilter(n);
    x.updateServer({ spec: { ...spec, nics: (spec.nics ?? []).filter((n) => n.portId !== x.params.portId) } });
    return { portId: x.params.portId };
  },
};

import { removeAll } from './files.js';
import { requireServer } from './helpers.js';
import { dhcpEntries, removeDhcpEntries } from '../network/dhcp-hosts.js';
import type { OperationDef } from './types.js';

/**
 * destroy: power off, undefine, drop the DHCP host entries of its NICs, delete every file the server owns
 * (volumes given by path are not owned). `keepFiles`: the files stay (an evacuated guest fenced on its old host
 * whose instance directory is shared with the host that runs it now).
 */
export const destroy: OperationDef<'destroy'> = {
  kind: 'destroy',
  refusedWhenDrained: false,
  check: (s) => { requireServer(s); },
  async run(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    x.step('destroy');
    if (await hv.getDomain(uuid)) {
      await hv.destroy(uuid);
      x.step('undefine');
      await hv.undefine(uuid);
    }
    const dhcp = dhcpEntries(x.server().spec.nics);
    if (dhcp.length) {
      x.step('network');
      await removeDhcpEntries(hv, dhcp);
    }
    if ((x.server().spec.nics ?? []).some((n) => n.attachment.type === 'tenant')) {
      x.step('port_filters');
      for (const n of x.server().spec.nics ?? []) await x.deps.networks.removePortFilter(n);
    }
    const files = x.params.keepFiles ? [] : x.server().files;
    x.step('delete_files', { files });
    await removeAll(files);
    x.updateServer({ status: 'deleted', power: 'nostate', desiredPower: 'nostate', files: [], resizeOld: null });
    return { deletedFiles: files.length };
  },
};

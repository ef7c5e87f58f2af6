import { removeAll } from './files.js';
import { requireServer } from './helpers.js';
import type { OperationDef } from './types.js';

/** destroy: power off, undefine, delete every file the server owns (volumes given by path are not owned). */
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
    const files = x.server().files;
    x.step('delete_files', { files });
    await removeAll(files);
    x.updateServer({ status: 'deleted', power: 'nostate', desiredPower: 'nostate', files: [], resizeOld: null });
    return { deletedFiles: files.length };
  },
};

/**
 * Create: claim a host (in the database), allocate fixed IPs, spawn on the host. Each step is checkpointed, so a
 * controller that dies anywhere re-drives from that step: the claim and the addresses are found again (both are
 * idempotent per server), and the spawn goes to the same host under the same request id, which the agent dedupes.
 * A failed build gives its claim back and leaves the server in ERROR with the fault (Nova's "No valid host was
 * found." is a 400 fault).
 */
import { POWER, novaPower } from '../../compute/power.js';
import type { NicRecord } from '../../compute/spec.js';
import type { TaskDef } from '../types.js';

export interface BuildParams { requestedHost?: string }

export const build: TaskDef<BuildParams> = {
  kind: 'create', action: 'create', event: 'compute__do_build_and_run_instance', taskState: 'scheduling',
  steps: [
    {
      name: 'schedule',
      run: async (t) => {
        const s = await t.server();
        await t.save({ host: await t.svc.placement.place(s, t.params.requestedHost ?? s.host ?? undefined) });
      },
    },
    {
      name: 'networks',
      run: async (t) => {
        const s = await t.server();
        const nics = await t.svc.ipam.allocate(s.id, s.requestedNetworks ?? []);
        await t.save({ nics: nics.map((n): NicRecord => ({ networkId: n.network.id, mac: n.mac, address: n.address })) });
      },
    },
    {
      name: 'spawn',
      run: async (t) => {
        const host = t.data.host as string;
        const spec = await t.svc.specs.spec(await t.server(), host, t.data.nics as NicRecord[]);
        await t.save({ power: (await t.call('spawn', { spec })).power });
      },
    },
  ],
  success: (t) => ({
    vmState: 'active', powerState: novaPower(t.data.power), host: t.data.host as string, node: t.data.host as string,
    addresses: (t.data.nics as NicRecord[]).map((n) => ({ network: t.svc.specs.network(n.networkId).name, addr: n.address, version: 4 as const, mac: n.mac, type: 'fixed' as const })),
    launchedAt: new Date().toISOString(), progress: 100,
  }),
  failure: { vmState: 'error', powerState: POWER.NOSTATE },
  releasesClaimOnFailure: true,
};

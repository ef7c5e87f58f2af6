/**
 * Shelve, shelve offload and unshelve (Nova's compute manager shelve_instance / shelve_offload_instance /
 * unshelve_instance), each a task whose steps are checkpointed; every host call has its own tag, so a step
 * re-driven after a controller crash gets the operation the agent already ran.
 *
 * - shelve: power off -> snapshot into `<name>-shelved` -> SHELVED; with shelved_offload_time 0 the same task goes
 *   on (task_state shelving_offloading) to destroy the guest on its host -> SHELVED_OFFLOADED, host and node
 *   cleared, the claim given back in the finishing transaction.
 * - shelveOffload (admin): the offload alone, from SHELVED.
 * - unshelve: from SHELVED the guest is started where it is; from SHELVED_OFFLOADED a host is claimed (an admin's
 *   requested host, else the scheduler's), the guest spawned there from the shelved image with the server's
 *   addresses, and the image deleted afterwards -> ACTIVE. A failed unshelve leaves SHELVED_OFFLOADED, no claim.
 *
 * The task_state moves through Nova's phases (shelving, shelving_image_pending_upload, shelving_image_uploading,
 * shelving_offloading; unshelving, spawning) with a compare-and-swap per phase; success and failure swap from any.
 */
import { RULES } from '../../compute/states.js';
import { POWER, novaPower } from '../../compute/power.js';
import { ensureHostNetworks } from './host-networks.js';
import { HostCallError } from '../../hosts/transport.js';
import type { FlavorSnapshot, ServerChanges } from '../../../store/index.js';
import { heldFlavor } from '../../../store/index.js';
import type { StepDef, TaskCtx, TaskDef } from '../types.js';
import { takeSnapshot } from './image.js';

export interface ShelveParams { imageId: string; offload: boolean }
export interface UnshelveParams { requestedHost?: string }

const SHELVE_STATES = ['shelving', 'shelving_image_pending_upload', 'shelving_image_uploading', 'shelving_offloading'] as const;
const UNSHELVE_STATES = ['unshelving', 'spawning', 'powering-on'] as const;

/**
 * Moves the running task's task_state to `to` (from any of its phases, so a re-driven step moves it again
 * harmlessly). A server taken by a delete or a reset-state since stops the task here.
 */
async function phase(t: TaskCtx<unknown>, from: readonly string[], to: string, changes: ServerChanges = {}): Promise<void> {
  if (await t.svc.store.updateServerIf(t.task.serverId, { taskState: from }, { ...changes, taskState: to })) return;
  const now = await t.server();
  throw new Error(`Unexpected task state: expecting ${JSON.stringify(from)} but the actual state is ${now.taskState ?? 'None'}`);
}

/** destroys the guest on its host (offload) and records the host and flavor whose room the finish gives back */
const destroyStep: StepDef<unknown> = {
  name: 'destroy',
  run: async (t) => {
    const s = await t.server();
    const host = (t.data.host as string | undefined) ?? s.host ?? (await t.svc.store.getAllocation(s.id))?.host;
    if (!host) return; // nowhere to destroy (a server offloaded already)
    await t.save({ host, flavor: s.flavor });
    try {
      await t.call('destroy', {}, { host, tag: 'offload' });
    } catch (err) {
      if (!(err instanceof HostCallError && err.code === 'unknown_server')) throw err;
    }
  },
};

/** the server after an offload: no host, no node (the claim goes back in the same transaction) */
const offloaded = (): ServerChanges => ({ vmState: 'shelved_offloaded', powerState: POWER.SHUTDOWN, host: null, node: null });

const freeRoom = (t: TaskCtx<unknown>): void => {
  if (t.data.host && t.data.flavor) t.svc.placement.freed(t.data.host as string, t.data.flavor as FlavorSnapshot);
};

export const shelve: TaskDef<ShelveParams> = {
  kind: 'shelve', rule: RULES.shelve, action: RULES.shelve.instanceAction, event: RULES.shelve.event,
  taskState: RULES.shelve.task, taskStates: SHELVE_STATES,
  steps: [
    {
      // Nova powers off first (a paused guest without a clean shutdown), then snapshots the quiet disk
      name: 'power_off',
      run: async (t) => {
        const s = await t.server();
        if (s.powerState === POWER.SHUTDOWN) return t.save({ power: 'shutdown' });
        // a suspended guest has no QEMU running: it is resumed so that it can be shut down cleanly
        if (s.vmState === 'suspended') await t.call('resume', {}, { tag: 'resume' });
        await t.save({ power: (await t.call('stop', {}, { tag: 'stop' })).power });
      },
    },
    {
      name: 'snapshot',
      run: async (t) => {
        await phase(t, SHELVE_STATES, 'shelving_image_pending_upload');
        await takeSnapshot(t, t.params.imageId, { tag: 'snapshot', uploading: () => phase(t, SHELVE_STATES, 'shelving_image_uploading') });
        await t.save({ shelvedAt: (t.data.shelvedAt as string | undefined) ?? new Date().toISOString() });
      },
    },
    {
      // shelved_offload_time 0: Nova's shelve goes on to offload, the server SHELVED meanwhile
      name: 'shelved',
      run: async (t) => {
        if (!t.params.offload) return;
        await phase(t, SHELVE_STATES, 'shelving_offloading', {
          vmState: 'shelved', powerState: novaPower(t.data.power), shelvedImageId: t.params.imageId, shelvedAt: t.data.shelvedAt as string,
        });
      },
    },
    { name: 'destroy', run: async (t) => { if (t.params.offload) await destroyStep.run(t); } },
  ],
  success: (t) => ({
    ...(t.params.offload ? offloaded() : { vmState: 'shelved', powerState: novaPower(t.data.power) }),
    shelvedImageId: t.params.imageId, shelvedAt: t.data.shelvedAt as string,
  }),
  releasesClaimOnSuccess: (t) => t.params.offload,
  finished: freeRoom,
  // the snapshot goes unless the server already counts on it (it was marked shelved before the offload failed)
  undo: async (t) => {
    const s = await t.server();
    if (s.shelvedImageId !== t.params.imageId) await t.svc.images.remove(t.params.imageId);
  },
};

export const shelveOffload: TaskDef = {
  kind: 'shelve_offload', rule: RULES.shelveOffload, action: RULES.shelveOffload.instanceAction, event: RULES.shelveOffload.event,
  taskState: RULES.shelveOffload.task,
  steps: [destroyStep],
  success: offloaded,
  releasesClaimOnSuccess: () => true,
  finished: freeRoom,
};

export const unshelve: TaskDef<UnshelveParams> = {
  kind: 'unshelve', rule: RULES.unshelve, action: RULES.unshelve.instanceAction, event: RULES.unshelve.event,
  taskState: RULES.unshelve.task, taskStates: UNSHELVE_STATES,
  steps: [
    {
      name: 'schedule',
      run: async (t) => {
        const s = await t.server();
        // SHELVED: the guest is still defined on its host, it only needs starting
        if (s.vmState === 'shelved') return t.save({ host: s.host, spawn: false });
        await t.save({ host: await t.svc.placement.place(s, t.params.requestedHost), spawn: true });
      },
    },
    {
      name: 'networks',
      run: async (t) => {
        if (!t.data.spawn) return;
        const s = await t.server();
        // the ports (and addresses) the server kept while offloaded; the new host learns their networks
        const host = t.data.host as string;
        const ports = await t.svc.net.allocate(s, host);
        await t.save({ ports: ports.map((p) => p.id) });
        await ensureHostNetworks(t, ports, host);
      },
    },
    {
      name: 'spawn',
      run: async (t) => {
        const s = await t.server();
        if (!t.data.spawn) {
          await phase(t, UNSHELVE_STATES, 'powering-on');
          return t.save({ power: (await t.call('start', {}, { tag: 'start' })).power });
        }
        if (!s.shelvedImageId) throw new Error(`Instance ${s.id} has no shelved image to unshelve from.`);
        await phase(t, UNSHELVE_STATES, 'spawning');
        const spec = await t.svc.specs.spec({ ...s, imageRef: s.shelvedImageId }, t.data.host as string, await t.svc.net.nics(t.data.ports as string[]));
        await t.save({ power: (await t.call('spawn', { spec }, { tag: 'spawn' })).power });
      },
    },
    {
      name: 'delete_image',
      run: async (t) => {
        const s = await t.server();
        if (s.shelvedImageId) await t.svc.images.remove(s.shelvedImageId);
      },
    },
  ],
  success: (t) => ({
    vmState: 'active', powerState: novaPower(t.data.power), shelvedImageId: null, shelvedAt: null,
    ...(t.data.spawn ? { host: t.data.host as string, node: t.data.host as string, launchedAt: new Date().toISOString() } : {}),
  }),
  /**
   * A spawn that failed leaves the server SHELVED_OFFLOADED without a host, as Nova: whatever reached the host is
   * destroyed there and the claim given back. A guest that cannot be destroyed keeps its host and claim.
   */
  undo: async (t) => {
    if (!t.data.spawn || !t.data.host) return;
    const host = t.data.host as string;
    try {
      await t.call('destroy', {}, { host, tag: 'unshelve_undo' });
    } catch (err) {
      if (!(err instanceof HostCallError && err.code === 'unknown_server')) return;
    }
    const s = await t.server();
    await t.svc.placement.unclaim(s.id, host, heldFlavor(s, s.flavor));
    await t.svc.store.updateServerIf(s.id, { taskState: UNSHELVE_STATES }, { host: null, node: null });
  },
};

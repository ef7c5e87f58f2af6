import { Type, type Static } from '@sinclair/typebox';
import { PowerState } from './common.js';

/** GET /v1/inventory: the heartbeat. The controller polls it; a missing answer is a missed beat. */
export const Inventory = Type.Object({
  protocol: Type.String(),
  hostname: Type.String(),
  hostUuid: Type.String(),
  /** increases by one per inventory answer since the agent started */
  seq: Type.Integer(),
  startedAt: Type.String(),
  time: Type.String(),
  drained: Type.Boolean(),
  hypervisor: Type.Object({
    domainType: Type.String(), hypervisorVersion: Type.String(), libvirtVersion: Type.String(),
    cpus: Type.Integer(), cpuModel: Type.String(), memoryMiB: Type.Number(), freeMemoryMiB: Type.Number(),
    /** the host's architecture (libvirt's name: x86_64, aarch64): the scheduler's ImagePropertiesFilter */
    arch: Type.Optional(Type.String()),
  }),
  cpu: Type.Object({ cores: Type.Integer(), model: Type.String(), load1: Type.Number() }),
  memory: Type.Object({ totalMiB: Type.Number(), availableMiB: Type.Number() }),
  disk: Type.Object({ path: Type.String(), totalGiB: Type.Number(), freeGiB: Type.Number() }),
  servers: Type.Array(Type.Object({
    uuid: Type.String(), status: Type.String(), power: PowerState, task: Type.Union([Type.String(), Type.Null()]),
    vcpus: Type.Integer(), memoryMiB: Type.Integer(),
  })),
  unknownDomains: Type.Integer(),
  /** tenant networks: this host's VXLAN tunnel address (config tunnelIp, else the address the controller reaches it on) */
  tunnelIp: Type.Optional(Type.String()),
});
export type Inventory = Static<typeof Inventory>;

/** GET /v1/events?since=<seq>&wait=<s>: long-poll of the agent's event log (power changes, op transitions) */
export const AgentEvent = Type.Object({
  seq: Type.Integer(),
  time: Type.String(),
  type: Type.String(),
  uuid: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
  message: Type.String(),
  data: Type.Optional(Type.Unknown()),
});
export type AgentEvent = Static<typeof AgentEvent>;
export const EventsQuery = Type.Object({
  since: Type.Optional(Type.Integer({ minimum: 0 })),
  wait: Type.Optional(Type.Number({ minimum: 0, maximum: 120 })),
});
export const EventsResponse = Type.Object({ events: Type.Array(AgentEvent), next: Type.Integer() });
export type EventsResponse = Static<typeof EventsResponse>;

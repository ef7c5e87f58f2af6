import type { DomainStatus, PowerState } from '../../virt/hypervisor.js';
import { AgentError } from '../../rpc/errors.js';
import type { ServerRow } from '../journal/journal.js';
import type { OpExec } from './types.js';
import { buildDomainSpec } from './domain-spec.js';
import { addDhcpEntries, dhcpEntries } from '../network/dhcp-hosts.js';

/** Precondition helpers (submit-time, against the journal's last known power). */
export function requireServer(server: ServerRow | undefined): ServerRow {
  if (!server || server.status === 'deleted') throw new AgentError('unknown_server', 'no such server on this host');
  return server;
}

export function requirePower(server: ServerRow | undefined, allowed: PowerState[], what: string): ServerRow {
  const s = requireServer(server);
  if (s.status === 'building') throw new AgentError('invalid_state', `cannot ${what}: server is still building`);
  if (!allowed.includes(s.power)) throw new AgentError('invalid_state', `cannot ${what} a server in power state ${s.power}`);
  return s;
}

export function requireStatus(server: ServerRow | undefined, allowed: ServerRow['status'][], what: string): ServerRow {
  const s = requireServer(server);
  if (!allowed.includes(s.status)) throw new AgentError('invalid_state', `cannot ${what} a server in status ${s.status}`);
  return s;
}

/**
 * The agent's power state of a domain: libvirt's, except that a shut-off domain with a managed-save image is
 * 'suspended' (Nova's SUSPENDED; libvirt itself just says shutoff), and a missing domain is 'nostate'.
 */
export function powerOf(d: DomainStatus | null | undefined): PowerState {
  if (!d) return 'nostate';
  if (d.managedSave && (d.power === 'shutdown' || d.power === 'nostate')) return 'suspended';
  return d.power;
}

/** libvirt's truth right now ('nostate' if the domain is gone). */
export async function currentPower(x: OpExec<unknown>): Promise<PowerState> {
  return powerOf(await x.deps.hv.getDomain(x.op.serverUuid));
}

/** Records what libvirt says now as the server's power (and what the operation intended). */
export async function recordPower(x: OpExec<unknown>, desired?: PowerState): Promise<PowerState> {
  const power = await currentPower(x);
  x.updateServer(desired ? { power, desiredPower: desired } : { power });
  return power;
}

/**
 * Waits until the domain's power satisfies `ok` (true) or the time is up (false). Settled by libvirt's lifecycle
 * event as power sync re-reads it; the re-read every `pollIntervalMs` only catches an event that was lost.
 */
export function waitForPower(x: OpExec<unknown>, ok: (p: PowerState) => boolean, timeoutMs: number): Promise<boolean> {
  return x.deps.powerWatch.wait(x.op.serverUuid, ok, { timeoutMs, rereadMs: x.deps.config.pollIntervalMs, read: () => currentPower(x) });
}

const off = (p: PowerState): boolean => p === 'shutdown' || p === 'nostate' || p === 'crashed';

/**
 * Nova's clean shutdown: press the ACPI button, press it again every retry interval, and after the
 * timeout power off hard. A paused guest cannot react to ACPI, so it is powered off directly.
 * Returns how it stopped.
 */
export async function gracefulStop(x: OpExec<unknown>, opts: { timeoutSec?: number | undefined; retryIntervalSec?: number | undefined } = {}): Promise<'already' | 'acpi' | 'destroy'> {
  const { hv, config } = x.deps;
  const uuid = x.op.serverUuid;
  const timeoutMs = (opts.timeoutSec ?? config.shutdownTimeoutSec) * 1000;
  const retryMs = (opts.retryIntervalSec ?? config.shutdownRetryIntervalSec) * 1000;
  const p = await currentPower(x);
  if (off(p) || p === 'suspended') return 'already';
  if (p === 'running' && timeoutMs > 0) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      x.step('acpi_shutdown');
      await hv.shutdown(uuid);
      if (await waitForPower(x, off, Math.min(retryMs, deadline - Date.now()))) return 'acpi';
    }
  }
  x.step('destroy', { stopFallback: true });
  await hv.destroy(uuid);
  return 'destroy';
}

export function isOff(p: PowerState): boolean {
  return off(p);
}

/**
 * A server whose domain vanished (the host lost its guests: a crash, a libvirtd state wipe) while its journal row
 * and files remain: define it again from the journaled spec, as Nova's hard reboot recreates the domain from the
 * instance. DHCP host entries are put back first (identical entries are a no-op).
 */
export async function ensureDefined(x: OpExec<unknown>): Promise<boolean> {
  const { hv, paths } = x.deps;
  if (await hv.getDomain(x.op.serverUuid)) return false;
  const spec = x.server().spec;
  x.step('redefine');
  const dhcp = dhcpEntries(spec.nics);
  if (dhcp.length) await addDhcpEntries(hv, dhcp);
  for (const n of spec.nics ?? []) await x.deps.networks.applyPortFilter(n);
  await hv.define(buildDomainSpec(spec, paths, x.deps, x.deps.networks.resolveNic));
  x.deps.events.emit({ type: 'operation', uuid: x.op.serverUuid, requestId: x.op.requestId, message: 'domain was missing: defined again from the journaled spec' });
  return true;
}

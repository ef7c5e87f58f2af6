/**
 * Disk and NIC hot-plug. Both the live domain (if running) and the persistent definition are changed,
 * each only where the device is not already as asked, so that a re-driven operation is a no-op.
 */
import { DomainDeviceModifyFlags as F, DomainXMLFlags } from '../libvirt/index.js';
import { diskXml, nicAlias, nicXml, parseDisks, parseNics } from '../domain-xml/index.js';
import { findAll } from '../domain-xml/xml.js';
import type { DiskSpec, NicSpec } from '../hypervisor.js';
import type { OpContext } from './context.js';
import { waitFor } from './waits.js';

interface Present { live: boolean; config: boolean; liveAlias?: string | undefined; configRaw?: string | undefined }

async function xmls(ctx: OpContext): Promise<{ active: boolean; live: string; config: string }> {
  const active = await ctx.dom.isActive();
  const config = await ctx.dom.getXMLDesc(DomainXMLFlags.INACTIVE);
  const live = active ? await ctx.dom.getXMLDesc(0) : '';
  return { active, live, config };
}

async function attach(ctx: OpContext, deviceXml: string, present: Present, active: boolean): Promise<void> {
  const flags = (active && !present.live ? F.LIVE : 0) | (!present.config ? F.CONFIG : 0);
  if (flags !== 0) await ctx.dom.attachDevice(deviceXml, flags);
}

async function detach(ctx: OpContext, p: Present, what: string): Promise<void> {
  // persistent definition first (as Nova does): if the guest never lets go of the device, at least the
  // next cold boot comes up without it, and a retry only has the live part left
  if (p.config && p.configRaw) await ctx.dom.detachDevice(p.configRaw, F.CONFIG);
  if (!p.live || !p.liveAlias) return;
  const alias = p.liveAlias;
  const gone = async (): Promise<boolean> => {
    if (!await ctx.dom.isActive()) return true;
    return !findAll(await ctx.dom.getXMLDesc(0), 'alias').some((a) => a.attrs['name'] === alias);
  };
  // libvirt's detach-by-alias returns once QEMU was asked; the guest releases the device some time later
  await waitFor(ctx.subscribe, {
    what: `the guest to release ${what} (alias ${alias})`,
    timeoutMs: ctx.detachTimeoutMs,
    onEvent: (e) => e.type === 'deviceRemoved' && e.uuid === ctx.uuid && e.alias === alias,
    start: () => ctx.dom.detachDeviceAlias(alias, F.LIVE),
    poll: gone,
  });
}

export async function attachDisk(ctx: OpContext, disk: DiskSpec): Promise<void> {
  const { active, live, config } = await xmls(ctx);
  const present = {
    live: parseDisks(live).some((d) => d.target === disk.target),
    config: parseDisks(config).some((d) => d.target === disk.target),
  };
  await attach(ctx, diskXml(disk), present, active);
}

export async function detachDisk(ctx: OpContext, target: string): Promise<void> {
  const { live, config } = await xmls(ctx);
  const l = parseDisks(live).find((d) => d.target === target);
  const c = parseDisks(config).find((d) => d.target === target);
  await detach(ctx, { live: !!l, liveAlias: l?.alias, config: !!c, configRaw: c?.raw }, `disk ${target}`);
}

export async function attachNic(ctx: OpContext, nic: NicSpec): Promise<void> {
  const { active, live, config } = await xmls(ctx);
  const alias = nicAlias(nic.portId);
  const present = {
    live: parseNics(live).some((n) => n.alias === alias),
    config: parseNics(config).some((n) => n.alias === alias),
  };
  await attach(ctx, nicXml(nic), present, active);
}

export async function detachNic(ctx: OpContext, portId: string): Promise<void> {
  const { live, config } = await xmls(ctx);
  const alias = nicAlias(portId);
  const l = parseNics(live).find((n) => n.alias === alias);
  const c = parseNics(config).find((n) => n.alias === alias);
  await detach(ctx, { live: !!l, liveAlias: l?.alias, config: !!c, configRaw: c?.raw }, `port ${portId}`);
}

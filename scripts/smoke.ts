/**
 * Smoke run of the foundation: boots the project's test guest on the local libvirtd through the native
 * binding, waits for its ready line and a heartbeat, then shuts it down by ACPI and checks it powered off.
 * Prints each step with its duration; exits non-zero on any failure, leaving nothing defined.
 *   node --import tsx scripts/smoke.ts [--uri qemu:///system]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DomainUndefineFlags, LibvirtConnection, ShutdownFlags, libvirtVersion, type LibvirtDomain,
} from '../src/virt/libvirt/index.js';
import { ConsoleLog, detectDomainType, guestDomainXml, POWEROFF_RE } from '../test/support/guest.js';

const { values } = parseArgs({ options: { uri: { type: 'string', default: 'qemu:///system' } } });
const uri = values.uri!;

async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await fn();
  console.log(`  ok  ${what.padEnd(44)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms`);
  return result;
}

async function waitForShutoff(dom: LibvirtDomain, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await dom.getState()).stateName !== 'shutoff') {
    if (Date.now() > deadline) throw new Error(`still ${(await dom.getState()).stateName} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'novalet-smoke-'));
const name = `novalet-smoke-${process.pid}`;
const conn = await LibvirtConnection.open(uri);
let dom: LibvirtDomain | undefined;
try {
  const domainType = detectDomainType(await conn.getCapabilities());
  console.log(`novalet smoke run on ${uri}: libvirt ${libvirtVersion().text}, hypervisor ${(await conn.getVersion()).text}, ` +
    `host ${await conn.getHostname()}, domain type ${domainType}`);
  const consoleLog = new ConsoleLog(join(dir, 'console.log'));
  dom = await step('define the test guest', () => conn.defineDomain(guestDomainXml({ name, consoleLog: consoleLog.path, domainType })));
  await step('start', () => dom!.create());
  const { boot } = await step('guest prints its ready line', () => consoleLog.waitForReady({ timeoutMs: 120_000 }));
  await step('guest heartbeat', () => consoleLog.waitForHeartbeat((h) => h.boot === boot));
  const mark = await consoleLog.mark();
  await step('ACPI power button', () => dom!.shutdown(ShutdownFlags.ACPI_POWER_BTN));
  await step('guest sees the power button', () => consoleLog.waitFor(POWEROFF_RE, 30_000, mark));
  await step('domain shut off', () => waitForShutoff(dom!, 30_000));
  console.log('smoke run passed');
} catch (e) {
  console.error(`smoke run FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  if (dom) {
    if (await dom.isActive().catch(() => false)) await dom.destroy().catch(() => undefined);
    await dom.undefine(DomainUndefineFlags.MANAGED_SAVE).catch(() => undefined);
  }
  await conn.close();
  rmSync(dir, { recursive: true, force: true });
}

import { gracefulStop, recordPower, requirePower, currentPower, ensureDefined } from './helpers.js';
import type { OperationDef } from './types.js';

/** start: power on a stopped server (a managed-save image, if any, is restored by libvirt). */
export const start: OperationDef<'start'> = {
  kind: 'start',
  stepsAreHints: true,
  refusedWhenDrained: true,
  check: (s) => { requirePower(s, ['shutdown', 'crashed', 'nostate'], 'start'); },
  async run(x) {
    await ensureDefined(x);
    x.step('start');
    if ((await currentPower(x)) !== 'running') await x.deps.hv.start(x.op.serverUuid);
    return { power: await recordPower(x, 'running') };
  },
};

/** stop: ACPI button, retried every interval; hard power-off after the timeout (Nova's clean shutdown). */
export const stop: OperationDef<'stop'> = {
  kind: 'stop',
  stepsAreHints: true,
  refusedWhenDrained: false,
  check: (s) => { requirePower(s, ['running', 'paused', 'crashed'], 'stop'); },
  async run(x) {
    const method = await gracefulStop(x, x.params);
    return { method, power: await recordPower(x, 'shutdown') };
  },
};

/**
 * reboot: hard = power off + start (Nova recreates the domain the same way). Soft = ACPI power button
 * (pressed again every retry interval), wait for the guest to power off (wait_soft_reboot_seconds), then
 * start; a guest that ignores the button gets the hard reboot. Re-driven after the guest already went
 * down, only the start is left.
 */
export const reboot: OperationDef<'reboot'> = {
  kind: 'reboot',
  refusedWhenDrained: false,
  // a hard reboot also brings back a server whose domain vanished (nostate), as Nova's does
  check: (s, p) => { requirePower(s, p.hard ? ['running', 'paused', 'shutdown', 'crashed', 'nostate'] : ['running'], p.hard ? 'hard reboot' : 'reboot'); },
  async run(x) {
    const { hv, config } = x.deps;
    const uuid = x.op.serverUuid;
    let method: 'soft' | 'hard' = 'hard';
    let fallback = false;
    if (!x.params.hard) {
      // the button is pressed again every retry interval: a guest still booting misses the first press
      const how = await gracefulStop(x, { timeoutSec: x.params.timeoutSec ?? config.softRebootTimeoutSec, retryIntervalSec: x.params.retryIntervalSec });
      method = how === 'destroy' ? 'hard' : 'soft';
      fallback = how === 'destroy';
    } else if (!(await ensureDefined(x))) {
      x.step('destroy');
      await hv.destroy(uuid);
    }
    x.step('start');
    if ((await currentPower(x)) !== 'running') await hv.start(uuid);
    return { method, fallback, power: await recordPower(x, 'running') };
  },
};

export const pause: OperationDef<'pause'> = {
  kind: 'pause',
  stepsAreHints: true,
  refusedWhenDrained: false,
  check: (s) => { requirePower(s, ['running'], 'pause'); },
  async run(x) {
    x.step('pause');
    await x.deps.hv.pause(x.op.serverUuid); // a no-op when already paused (re-drive)
    return { power: await recordPower(x, 'paused') };
  },
};

export const unpause: OperationDef<'unpause'> = {
  kind: 'unpause',
  stepsAreHints: true,
  refusedWhenDrained: true,
  check: (s) => { requirePower(s, ['paused'], 'unpause'); },
  async run(x) {
    x.step('unpause');
    await x.deps.hv.unpause(x.op.serverUuid); // a no-op when already running (re-drive)
    return { power: await recordPower(x, 'running') };
  },
};

/** suspend: managed save (memory to disk, QEMU exits); resume restores it through start. */
export const suspend: OperationDef<'suspend'> = {
  kind: 'suspend',
  stepsAreHints: true,
  refusedWhenDrained: false,
  check: (s) => { requirePower(s, ['running', 'paused'], 'suspend'); },
  async run(x) {
    x.step('managed_save');
    if ((await currentPower(x)) !== 'suspended') await x.deps.hv.managedSave(x.op.serverUuid);
    return { power: await recordPower(x, 'suspended') };
  },
};

export const resume: OperationDef<'resume'> = {
  kind: 'resume',
  stepsAreHints: true,
  refusedWhenDrained: true,
  check: (s) => { requirePower(s, ['suspended'], 'resume'); },
  async run(x) {
    await ensureDefined(x);
    x.step('start');
    if ((await currentPower(x)) !== 'running') await x.deps.hv.start(x.op.serverUuid);
    return { power: await recordPower(x, 'running') };
  },
};

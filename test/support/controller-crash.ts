/**
 * "A controller dies mid-task", with fake hosts: controller `a` (two hosts, on a database of its own temp dir) hangs
 * at a failpoint of the task engine (`<kind>.<step>`, before or after the step runs: it never records the step's
 * end); `takeOver()` starts controller `b` on the same database and the same fake hypervisor, lets a's lease run out
 * (a is "dead": it never renews it) and has b adopt the task. `close()` closes b and removes the database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHarness, type Harness } from './harness.js';
import { addHostB } from './two-hosts.js';

export interface ControllerCrash {
  /** the controller that hangs at the failpoint */
  a: Harness;
  /** waits (up to 2 s) for a host call of `a` that `pred` accepts, then a little more for the failpoint to be reached */
  untilCall(pred: (c: Harness['driver']['calls'][number]) => boolean): Promise<void>;
  /** controller b on the same database and hosts takes a's one task over (asserted) */
  takeOver(): Promise<Harness>;
  close(): Promise<void>;
}

const LEASE_S = 0.5;

export async function controllerThatDies(task: string, step: string, when: 'before' | 'after'): Promise<ControllerCrash> {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-crash-'));
  const dbPath = join(dir, 'shared.db');
  const over = { allowResizeToSameHost: false, taskLeaseSeconds: LEASE_S };
  const a = await createHarness(over, 2, { dbPath, failpoints: new Map([[`${task}.${step}`, when]]) });
  await addHostB(a);
  let b: Harness | undefined;
  return {
    a,
    async untilCall(pred) {
      for (let i = 0; i < 200 && !a.driver.calls.some(pred); i++) await sleep(10);
      await sleep(50);
    },
    async takeOver() {
      b = await createHarness(over, 2, { dbPath, driver: a.driver });
      await addHostB(b);
      await sleep(LEASE_S * 1000 + 100);
      assert.equal(await b.app.novalet.compute.tasks.adopt(), 1, 'b takes the task over');
      return b;
    },
    async close() {
      if (b) {
        await b.close();
        await b.store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

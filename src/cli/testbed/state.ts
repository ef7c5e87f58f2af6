/**
 * The testbed's state file (DIR/testbed.json): what `down`, `status`, `kill-host` and the stale-testbed cleanup of
 * another process need to find everything the testbed made. Written before anything is created, so a crash half
 * way still leaves a record to tear down.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TESTBED_BASE = process.env['NOVALET_TESTBED_DIR'] || '/var/lib/novalet-testbed';
export const TESTBED_SUBNET = '10.77.0.0/24';
/** every namespace, root-namespace interface and registry entry of a testbed starts with its prefix */
export const PREFIX_RE = /^nvtb[a-z0-9]{1,8}$/;

export interface HostState { name: string; netns: string; ip: string; dir: string }
export interface ProcessRef { pid: number; start: string }

/** The novalet cluster running on a testbed (`novalet testbed up`). */
export interface NovaletState {
  /** root-namespace end of the veth to the bridge namespace (`<prefix>-c`) and its /30 */
  link: { rootIf: string; rootIp: string; bridgeIp: string };
  apiUrl: string;
  controller?: ProcessRef;
  /** controllers beyond the first (`--controllers N`): one database, API on the next ports */
  extraControllers?: Array<{ apiUrl: string; ref?: ProcessRef }>;
  /** the testbed's own PostgreSQL (`--store postgres`): data dir and port, stopped by down */
  postgres?: { dir: string; port: number };
  /** the testbed's own Ceph (`--storage ceph`): data dir and monitor address, stopped by down */
  ceph?: { dir: string; addr: string };
  agents: Record<string, ProcessRef | undefined>;
}

export interface TestbedState {
  prefix: string;
  /** the testbed's directory (TESTBED_BASE/<prefix>, or the --data-dir, registered by a link TESTBED_BASE/<prefix>) */
  dir: string;
  /** the directory did not exist before: teardown removes it, not only its content */
  createdDir: boolean;
  ownerPid: number;
  ownerStart: string;
  persistent: boolean;
  bridgeNetns: string;
  hosts: HostState[];
  novalet?: NovaletState;
}

export const stateFile = (dir: string) => join(dir, 'testbed.json');

export function readState(dir: string): TestbedState {
  const s = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as TestbedState;
  // state files of the first testbeds had no dir
  return { ...s, dir: s.dir ?? dir, createdDir: s.createdDir ?? true };
}

/** atomic: a reader never sees half a file */
export function writeState(s: TestbedState): void {
  const f = stateFile(s.dir);
  writeFileSync(`${f}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(`${f}.tmp`, f);
}

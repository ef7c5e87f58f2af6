/**
 * How the novalet processes of a suite run: `tsx` (bin/novalet.js, TypeScript compiled at start: development and
 * the tests), `compiled` (tsc output, dist/src/cli/main.js, glibc arenas capped, CONTROLLER_NODE_FLAGS: the controller's systemd unit
 * and `novalet up`) or `compiled+lean` (the same with V8 flags for a small footprint: the agent's unit). Memory differs
 * a lot between them; speed little.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `env`: added to the process environment (what the systemd units set) */
export interface Runtime { name: string; entry: string; nodeArgs: string[]; env: Record<string, string> }

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * V8 flags for a small footprint (the agent's systemd unit runs with these): a 1 MiB young generation (default 16 MiB:
 * ~28 MB of RSS) and no optimising compiler (TurboFan's code and zones; the agent is I/O bound). Measured against
 * `--lite-mode` (also no baseline compiler): the same RSS, ~0.7 ms less overhead per operation (src/agent/README.md).
 */
export const LEAN_NODE_FLAGS = ['--max-semi-space-size=1', '--no-opt'];
/**
 * V8 flags of the controller's unit (systemd/novalet-controller.service says why): collect sooner, so dead request
 * data does not pile up to a peak RSS over 200 MB under malformed traffic (the fuzzmem suite).
 */
export const CONTROLLER_NODE_FLAGS = ['--heap-growing-percent=30'];
/** glibc arenas capped as the systemd units do (systemd/novalet-controller.service says why) */
const UNIT_ENV = { MALLOC_ARENA_MAX: '2' };
/** NOVALET_BENCH_NODE_FLAGS='--flag ...': one more runtime, 'compiled+custom' (the build with those node flags) */
const CUSTOM = process.env['NOVALET_BENCH_NODE_FLAGS']?.split(/\s+/).filter(Boolean);

export const RUNTIMES: Runtime[] = [
  { name: 'tsx', entry: join(ROOT, 'bin', 'novalet.js'), nodeArgs: [], env: {} },
  // the controller's unit
  { name: 'compiled', entry: join(ROOT, 'dist', 'src', 'cli', 'main.js'), nodeArgs: CONTROLLER_NODE_FLAGS, env: UNIT_ENV },
  // the agent's unit
  { name: 'compiled+lean', entry: join(ROOT, 'dist', 'src', 'cli', 'main.js'), nodeArgs: LEAN_NODE_FLAGS, env: UNIT_ENV },
  ...(CUSTOM ? [{ name: 'compiled+custom', entry: join(ROOT, 'dist', 'src', 'cli', 'main.js'), nodeArgs: CUSTOM, env: UNIT_ENV }] : []),
];

/** The runtime by name; a compiled one is built first (tsc emits even if an unrelated file does not typecheck). */
export function prepareRuntime(name: string): Runtime {
  const rt = RUNTIMES.find((r) => r.name === name);
  if (!rt) throw new Error(`unknown runtime ${name}; one of ${RUNTIMES.map((r) => r.name).join(', ')}`);
  if (rt.name !== 'tsx') {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(rt.entry)) throw new Error(`tsc produced no ${rt.entry}:\n${r.stdout}${r.stderr}`);
  }
  return rt;
}

/** Runtime chosen for this bench run (`--runtime`, default tsx); set once by bench/run.ts. */
let current: Runtime = RUNTIMES[0]!;
export function useRuntime(rt: Runtime): void { current = rt; }
export function runtime(): Runtime { return current; }

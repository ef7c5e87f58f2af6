/**
 * How the novalet processes of a suite run: `tsx` (bin/novalet.js, TypeScript compiled at start, what
 * `novalet` does today), `compiled` (tsc output, dist/src/cli/main.js) or `compiled+lean` (the same with V8 flags
 * for a small footprint, as bench/agent.bench.ts measures them). Memory differs a lot between them; speed little.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Runtime { name: string; entry: string; nodeArgs: string[] }

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LEAN = ['--max-semi-space-size=1', '--lite-mode'];

export const RUNTIMES: Runtime[] = [
  { name: 'tsx', entry: join(ROOT, 'bin', 'novalet.js'), nodeArgs: [] },
  { name: 'compiled', entry: join(ROOT, 'dist', 'src', 'cli', 'main.js'), nodeArgs: [] },
  { name: 'compiled+lean', entry: join(ROOT, 'dist', 'src', 'cli', 'main.js'), nodeArgs: LEAN },
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

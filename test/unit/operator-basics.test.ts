/** What an operator types first: `novalet --version`, and the systemd units as systemd itself checks them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execa } from 'execa';
import { CONTROLLER_NODE_FLAGS, LEAN_NODE_FLAGS } from '../../bench/lib/runtime.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('operator basics', () => {
  it('novalet --version and novalet version print the package version and the agent protocol', async () => {
    for (const arg of ['--version', 'version']) {
      const r = await execa('node', ['bin/novalet.js', arg]);
      assert.match(r.stdout, new RegExp(`^novalet ${pkg.version.replace(/\./g, '\\.')} \\(agent protocol novalet-agent/1, node v20\\.`));
    }
  });

  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  it('systemd-analyze verify accepts every unit in systemd/', { skip: analyze ? false : 'systemd-analyze is not installed' }, async () => {
    const units = readdirSync('systemd').filter((f) => f.endsWith('.service')).map((f) => `systemd/${f}`);
    assert.ok(units.length >= 2);
    const r = await execa(analyze!, ['verify', ...units], { reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  });

  it('the units, scripts/up.sh and the benchmarks run node with the same V8 flags (what the benchmarks measured is what runs)', () => {
    const flagsOf = (execStart: string) => /ExecStart=\/usr\/bin\/env node ((?:--\S+ )*)/.exec(execStart)?.[1]?.trim().split(' ') ?? [];
    assert.deepEqual(flagsOf(readFileSync('systemd/novalet-controller.service', 'utf8')), CONTROLLER_NODE_FLAGS);
    assert.deepEqual(flagsOf(readFileSync('systemd/novalet-agent.service', 'utf8')), LEAN_NODE_FLAGS);
    assert.match(readFileSync('scripts/up.sh', 'utf8'), new RegExp(`^NODE_FLAGS="${CONTROLLER_NODE_FLAGS.join(' ')}"$`, 'm'));
  });
});

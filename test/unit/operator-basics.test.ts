/** What an operator types first: `novalet --version`, and the systemd units as systemd itself checks them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execa } from 'execa';

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
});

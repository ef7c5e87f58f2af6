/**
 * `novalet testbed up` refuses a bad --controllers or --store before it makes anything (exit 2, no testbed dir);
 * the testbed itself with two controllers is run by hand (README "Several hosts on one machine").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testbedCommand } from '../../src/cli/testbed-command.js';

test('testbed up: --controllers 1..8 and a usable --store, checked before anything starts', { skip: process.getuid?.() !== 0 ? 'the root check comes first' : false }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'novalet-tbargs-'));
  const dir = join(base, 'tb');
  const errors: string[] = [];
  const orig = console.error;
  console.error = (m: string) => { errors.push(String(m)); };
  try {
    for (const bad of [['--controllers', '0'], ['--controllers', '9'], ['--controllers', 'two'], ['--store', 'postgres://db.example'], ['--store']]) {
      assert.equal(await testbedCommand(['up', '--hosts', '1', '--data-dir', dir, ...bad]), 2, bad.join(' '));
    }
  } finally {
    console.error = orig;
  }
  assert.match(errors.join('\n'), /--controllers: expected 1\.\.8, got 0[\s\S]*--store: a PostgreSQL URL must name the database[\s\S]*--store: needs a value/);
  assert.equal(existsSync(dir), false, 'nothing made');
  rmSync(base, { recursive: true, force: true });
});

/** The CLI's flag helpers: what operators type is parsed or refused with the flag named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, parseListen, positiveNumber } from '../../src/cli/args.js';

test('flags: --name value, --name=value, booleans; listen addresses; positive numbers refused when not', () => {
  const { flags, positional } = parseArgs(['up', '--cpu-allocation-ratio', '5', '--listen=127.0.0.1:8774', '--verbose', '--', '--x'], ['verbose']);
  assert.deepEqual(positional, ['up', '--x']);
  assert.equal(positiveNumber(flags, 'cpu-allocation-ratio'), 5);
  assert.equal(positiveNumber(flags, 'absent'), undefined);
  assert.deepEqual(parseListen(String(flags['listen'])), { host: '127.0.0.1', port: 8774 });
  assert.equal(flags['verbose'], true);
  for (const bad of ['0', '-1', 'four', 'Infinity']) {
    assert.throws(() => positiveNumber({ 'cpu-allocation-ratio': bad }, 'cpu-allocation-ratio'), /--cpu-allocation-ratio: expected a positive number/);
  }
  assert.equal(positiveNumber({ r: '1.5' }, 'r'), 1.5);
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  assert.throws(() => parseListen('host:99999'), /bad port/);
});

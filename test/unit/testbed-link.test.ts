/** The controller link of `novalet testbed`: a /30 that nothing on the machine uses, stable for a prefix. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freeLinkSubnet, toInt } from '../../src/cli/testbed/control-link.js';

const p = (cidr: string): [number, number] => { const [ip, len] = cidr.split('/'); return [toInt(ip!), Number(len ?? 32)]; };

describe('testbed controller link subnet', () => {
  it('is a /30 of 10.78.0.0/16, the same for the same prefix', () => {
    const a = freeLinkSubnet('nvtbabc123', []);
    assert.match(a!, /^10\.78\.\d+\.\d+$/);
    assert.equal(Number(a!.split('.')[3]) % 4, 0);
    assert.equal(freeLinkSubnet('nvtbabc123', []), a);
  });

  it('skips a /30 another testbed (or anything else) already has, and whole networks the machine routes', () => {
    const a = freeLinkSubnet('nvtbabc123', [])!;
    const b = freeLinkSubnet('nvtbabc123', [p(`${a.replace(/\d+$/, (d) => String(Number(d) + 2))}/30`)])!;
    assert.notEqual(b, a);
    assert.equal(freeLinkSubnet('nvtbabc123', [p('10.78.0.0/16')]), undefined, 'a machine network on 10.78/16: no link there');
    assert.equal(freeLinkSubnet('nvtbabc123', [p('10.0.0.0/8')]), undefined);
    assert.ok(freeLinkSubnet('nvtbabc123', [p('10.77.0.0/24'), p('127.0.0.0/8'), p('192.168.1.10')]));
  });
});

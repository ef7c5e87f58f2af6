/**
 * A minimal DHCPv6 client for tests (the hosts have none, busybox has no udhcpc6): run inside a namespace,
 * `node --import tsx test/support/dhcpv6-solicit.ts <ifname> <mac>` sends a Solicit with a DUID-LL of the MAC and
 * one IA_NA to ff02::1:2 and prints the first Advertise as JSON: {addresses: [...], dns: [...], status?: code}.
 * Exits 1 when nothing answers within 6 s (three tries).
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { canonicalIPv6 } from '../../src/common/ipv6.js';

const [ifname, mac] = process.argv.slice(2);
if (!ifname || !mac) { console.error('usage: dhcpv6-solicit <ifname> <mac>'); process.exit(2); }

const opt = (code: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([code >> 8, code & 255, data.length >> 8, data.length & 255]), data]);
const xid = randomBytes(3);
const duid = Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.from(mac.split(':').map((x) => parseInt(x, 16)))]);
const solicit = Buffer.concat([
  Buffer.from([1]), xid,
  opt(1, duid),
  opt(3, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), // IA_NA, IAID 1, T1 = T2 = 0
  opt(8, Buffer.from([0, 0])), // elapsed time
  opt(6, Buffer.from([0, 23])), // option request: DNS servers
]);

function options(b: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  for (let i = 0; i + 4 <= b.length;) {
    const code = b.readUInt16BE(i);
    const len = b.readUInt16BE(i + 2);
    out.push([code, b.subarray(i + 4, i + 4 + len)]);
    i += 4 + len;
  }
  return out;
}

const addr = (b: Buffer): string => {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  return canonicalIPv6(g.join(':'));
};

const sock = createSocket({ type: 'udp6', reuseAddr: true });
sock.on('message', (m) => {
  if (m[0] !== 2 || !m.subarray(1, 4).equals(xid)) return;
  const res: { addresses: string[]; dns: string[]; status?: number } = { addresses: [], dns: [] };
  for (const [code, data] of options(m.subarray(4))) {
    if (code === 3) {
      for (const [c2, d2] of options(data.subarray(12))) {
        if (c2 === 5) res.addresses.push(addr(d2.subarray(0, 16)));
        if (c2 === 13) res.status = d2.readUInt16BE(0);
      }
    }
    if (code === 23) for (let i = 0; i + 16 <= data.length; i += 16) res.dns.push(addr(data.subarray(i, i + 16)));
    if (code === 13) res.status = data.readUInt16BE(0);
  }
  console.log(JSON.stringify(res));
  sock.close();
  process.exit(0);
});
sock.bind(546, () => {
  let tries = 0;
  const send = (): void => {
    if (tries++ === 3) { sock.close(); process.exit(1); }
    sock.send(solicit, 547, `ff02::1:2%${ifname}`);
    setTimeout(send, 2000);
  };
  send();
});

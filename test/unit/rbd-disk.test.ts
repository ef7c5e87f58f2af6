/** rbd network disks as libvirt gets them, and how the rbd backend reads ceph.conf and the keyring. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cephSecretXml, diskXml } from '../../src/virt/domain-xml/index.js';
import { rbdClient } from '../../src/controller/volumes/backends/rbd.js';

describe('rbd disks', () => {
  it('a network disk: rbd source with its monitors, cephx auth by the secret; the secret XML is private', () => {
    const xml = diskXml({
      target: 'vdb', path: 'volumes/volume-1', format: 'raw', role: 'volume', sourceType: 'network', volumeId: 'v1',
      rbd: { hosts: [{ name: '10.0.0.1', port: 3300 }, { name: '10.0.0.2' }], user: 'novalet', secretUuid: '8a5c1bd6-1f0e-4c1a-9b1c-0f6a9d2b3c4d' },
    });
    assert.match(xml, /<disk type='network' device='disk'>/);
    assert.match(xml, /<source protocol='rbd' name='volumes\/volume-1'>\s*<host name='10.0.0.1' port='3300'\/>\s*<host name='10.0.0.2'\/>\s*<\/source>/);
    assert.match(xml, /<auth username='novalet'>\s*<secret type='ceph' uuid='8a5c1bd6-1f0e-4c1a-9b1c-0f6a9d2b3c4d'\/>\s*<\/auth>/);
    assert.throws(() => diskXml({ target: 'vdb', path: 'p/i', format: 'raw', role: 'volume', sourceType: 'network' }), /rbd source/);
    const s = cephSecretXml({ uuid: '8a5c1bd6-1f0e-4c1a-9b1c-0f6a9d2b3c4d', user: 'novalet', key: 'AQ==' });
    assert.match(s, /private='yes'/);
    assert.match(s, /<usage type='ceph'><name>client.novalet secret 8a5c1bd6/);
    assert.doesNotMatch(s, /AQ==/);
  });

  it('ceph.conf mon_host forms and the keyring: monitors (v2 preferred), key, a secret UUID stable per fsid and user', () => {
    const dir = mkdtempSync(join(tmpdir(), 'novalet-rbdconf-'));
    try {
      const keyring = join(dir, 'k');
      writeFileSync(keyring, '[client.novalet]\n\tkey = AQBvJ2VlAAAAABAAc2VjcmV0a2V5LWZvci10ZXN0cw==\n\tcaps mon = "profile rbd"\n');
      const conf = (monHost: string, fsid = 'f1') => { const p = join(dir, `c-${Math.random()}`); writeFileSync(p, `[global]\nfsid = ${fsid}\nmon host = ${monHost}\n`); return p; };
      const a = rbdClient({ pool: 'volumes', user: 'novalet', conf: conf('[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] [v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]'), keyring });
      assert.deepEqual(a.hosts, [{ name: '10.0.0.1', port: 3300 }, { name: '10.0.0.2', port: 3300 }]);
      assert.equal(a.key, 'AQBvJ2VlAAAAABAAc2VjcmV0a2V5LWZvci10ZXN0cw==');
      assert.match(a.secretUuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
      const b = rbdClient({ pool: 'volumes', user: 'novalet', conf: conf('10.0.0.3,10.0.0.4:6789'), keyring });
      assert.deepEqual(b.hosts, [{ name: '10.0.0.3' }, { name: '10.0.0.4', port: 6789 }]);
      assert.equal(b.secretUuid, a.secretUuid, 'same fsid and user: same secret on every host');
      assert.notEqual(rbdClient({ pool: 'volumes', user: 'novalet', conf: conf('10.0.0.3', 'f2'), keyring }).secretUuid, a.secretUuid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

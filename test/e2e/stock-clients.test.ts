/**
 * End to end with Debian's stock clients (openstack 6.0, nova 18.1, openstacksdk 0.101) and password auth through
 * a clouds.yaml, against the cloud from support/cloud.ts (the in-process controller with the fake driver by
 * default; NOVALET_E2E_CLOUD=real for the all-in-one). The steps run in order and share servers: `t1` goes through
 * every action, `t2` serves list paging and the recycle bin.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud, type Cloud } from './support/cloud.js';
import { Clients, parseProperties, parseTable } from '../support/stock-clients.js';

let cloud: Cloud;
let demo: Clients;
let admin: Clients;
let scratch: string;
const ids = { t1: '', t2: '', t1ip: '', network: '' };

/** how long a host operation may take: instant-ish on the fake driver, a guest boot on a real host */
const timeoutMs = () => (cloud.kind === 'real' ? 180_000 : 30_000);

interface Shown { id: string; name: string; status: string; 'OS-EXT-STS:task_state': string | null; 'OS-EXT-STS:power_state': number | string; [k: string]: unknown }

/** polls `openstack server show` until the server has `status` and no task; fails early on ERROR */
const waitStatus = (name: string, status: string, c = demo): Promise<Shown> => c.waitStatus<Shown>(name, status, { timeoutMs: timeoutMs() });

const POWER = { RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, SUSPENDED: 7 };
const power = (s: Shown) => Number(s['OS-EXT-STS:power_state']);
const ipsOf = (addresses: unknown, net: string): string[] => {
  // openstack -f json renders addresses as {net: [ip, ...]}
  const a = addresses as Record<string, string[]>;
  return a[net] ?? [];
};

before(async () => {
  cloud = await startCloud();
  demo = new Clients(cloud, 'novalet');
  admin = demo.as('novalet-admin');
  scratch = mkdtempSync(join(tmpdir(), 'novalet-e2e-files-'));
});

after(async () => {
  await cloud?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('catalog for users: flavors, images, networks; keypair create', async () => {
  const [flavors, flavor, images, image, networks, pem] = await Promise.all([
    demo.os<Array<Record<string, unknown>>>('flavor', 'list'),
    demo.os('flavor', 'show', 'm1.small'),
    demo.os<Array<Record<string, unknown>>>('image', 'list'),
    demo.os('image', 'show', cloud.image),
    demo.os<Array<Record<string, unknown>>>('network', 'list'),
    demo.osRaw('keypair', 'create', 'e2e-key'),
  ]);
  assert.ok(flavors.some((f) => f.Name === 'm1.tiny' && f.VCPUs === 1 && f['Is Public'] === true), JSON.stringify(flavors));
  assert.equal(flavor.name, 'm1.small');
  assert.equal(flavor.ram, 256);
  assert.equal(flavor.vcpus, 1);
  assert.ok(images.some((i) => i.Name === cloud.image && i.Status === 'active'));
  assert.equal(image.status, 'active');
  assert.equal(image.visibility, 'public');
  const net = networks.find((n) => n.Name === cloud.network);
  assert.ok(net, JSON.stringify(networks));
  ids.network = net.ID as string;
  // keypair create prints the generated private key; the public half is then listed with its fingerprint
  assert.match(pem, /-----BEGIN (RSA |OPENSSH )?PRIVATE KEY-----/);
  const key = await demo.os('keypair', 'show', 'e2e-key');
  assert.equal(key.name, 'e2e-key');
  assert.match(key.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
});

test('server create with image, flavor, network, key, user data and a property: BUILD, then ACTIVE with an address', async () => {
  const ud = join(scratch, 'user-data');
  writeFileSync(ud, '#cloud-config\nhostname: t1\n');
  const created = await demo.os<Shown>('server', 'create', '--image', cloud.image, '--flavor', 'm1.tiny', '--network', cloud.network,
    '--key-name', 'e2e-key', '--user-data', ud, '--property', 'role=web', 't1');
  ids.t1 = created.id;
  assert.equal(created.name, 't1');
  assert.equal(created.status, 'BUILD');
  assert.ok(created.adminPass, 'adminPass shown once at create');
  assert.equal(created.key_name, 'e2e-key');
  assert.deepEqual(created.properties, { role: 'web' });
  const s = await waitStatus('t1', 'ACTIVE');
  assert.equal(power(s), POWER.RUNNING);
  assert.match(String(s.image), new RegExp(`^${cloud.image} \\(`));
  assert.match(String(s.flavor), /^m1\.tiny \(/);
  const [ip] = ipsOf(s.addresses, cloud.network);
  assert.match(ip ?? '', /^\d+\.\d+\.\d+\.\d+$/, JSON.stringify(s.addresses));
  ids.t1ip = ip!;
  // the user data reached the server (admins see it from 2.3)
  const full = await admin.os('server', 'show', '--os-compute-api-version', '2.3', ids.t1);
  assert.equal(Buffer.from(full['OS-EXT-SRV-ATTR:user_data'], 'base64').toString(), '#cloud-config\nhostname: t1\n');
  // a second server, waited for by the client itself
  const t2 = await demo.os<Shown>('server', 'create', '--image', cloud.image, '--flavor', 'm1.tiny', '--network', cloud.network,
    '--security-group', 'default', '--wait', 't2');
  assert.equal(t2.status, 'ACTIVE');
  assert.deepEqual(t2.security_groups, [{ name: 'default' }]);
  ids.t2 = t2.id;
});

test('server list: filters, --long, sorting, --limit/--marker; nova list --sort', async () => {
  type Row = Record<string, any>;
  const [byName, active, byFlavor, long, sorted, page1] = await Promise.all([
    demo.os<Row[]>('server', 'list', '--name', '^t1$'),
    demo.os<Row[]>('server', 'list', '--status', 'ACTIVE', '--image', cloud.image),
    demo.os<Row[]>('server', 'list', '--flavor', 'm1.small'),
    demo.os<Row[]>('server', 'list', '--long'),
    demo.os<Row[]>('server', 'list', '--sort-column', 'Name', '--sort-descending'),
    demo.os<Row[]>('server', 'list', '--limit', '1'),
  ]);
  assert.deepEqual(byName.map((r) => r.Name), ['t1']);
  assert.deepEqual(byName[0]!.Networks, { [cloud.network]: [ids.t1ip] });
  assert.deepEqual(active.map((r) => r.Name).sort(), ['t1', 't2']);
  assert.deepEqual(byFlavor, []);
  const l1 = long.find((r) => r.Name === 't1')!;
  assert.equal(l1.Status, 'ACTIVE');
  assert.equal(l1['Flavor Name'], 'm1.tiny');
  assert.equal(l1['Image Name'], cloud.image);
  assert.equal(l1['Availability Zone'], 'nova');
  assert.deepEqual(l1.Properties, { role: 'web' });
  assert.deepEqual(sorted.map((r) => r.Name), ['t2', 't1']);
  // paging: the server's own order (newest first), one per page, the marker continues after page 1
  assert.equal(page1.length, 1);
  const page2 = await demo.os<Row[]>('server', 'list', '--limit', '1', '--marker', page1[0]!.ID);
  assert.equal(page2.length, 1);
  assert.notEqual(page2[0]!.ID, page1[0]!.ID);
  assert.deepEqual([page1[0]!.ID, page2[0]!.ID].sort(), [ids.t1, ids.t2].sort());
  // server-side sort (Nova's key is display_name)
  const asc = parseTable(await demo.nova('list', '--sort', 'display_name:asc'));
  assert.deepEqual(asc.map((r) => r.Name), ['t1', 't2']);
});

test('power actions: stop, start, reboot (soft, hard), pause, unpause, suspend, resume', async () => {
  const steps: Array<[string[], string, number]> = [
    [['stop'], 'SHUTOFF', POWER.SHUTDOWN], [['start'], 'ACTIVE', POWER.RUNNING],
    [['reboot'], 'ACTIVE', POWER.RUNNING], [['reboot', '--hard'], 'ACTIVE', POWER.RUNNING],
    [['pause'], 'PAUSED', POWER.PAUSED], [['unpause'], 'ACTIVE', POWER.RUNNING],
    [['suspend'], 'SUSPENDED', POWER.SUSPENDED], [['resume'], 'ACTIVE', POWER.RUNNING],
  ];
  for (const [action, status, pw] of steps) {
    await demo.osRaw('server', ...action, 't1');
    const s = await waitStatus('t1', status);
    assert.equal(power(s), pw, `${action.join(' ')} -> power state`);
  }
  // an action the state does not allow: Nova's 409 text reaches the user
  const r = await demo.osFails('server', 'unpause', 't1');
  assert.match(r.stderr, /409/);
  assert.match(r.stderr, new RegExp(`Cannot 'unpause' instance ${ids.t1} while it is in vm_state active`));
});

test('server set --name; resize with confirm and with revert', async () => {
  await demo.osRaw('server', 'set', '--name', 't1-renamed', 't1');
  assert.equal((await demo.os('server', 'show', ids.t1)).name, 't1-renamed');
  await demo.osRaw('server', 'set', '--name', 't1', ids.t1);

  await demo.osRaw('server', 'resize', '--flavor', 'm1.small', 't1');
  let s = await waitStatus('t1', 'VERIFY_RESIZE');
  assert.match(String(s.flavor), /^m1\.small \(/);
  await demo.osRaw('server', 'resize', 'confirm', 't1');
  s = await waitStatus('t1', 'ACTIVE');
  assert.match(String(s.flavor), /^m1\.small \(/);

  // upwards again: a smaller root disk is refused by the hypervisor, as with Nova's libvirt driver
  await demo.osRaw('server', 'resize', '--flavor', 'm1.medium', 't1');
  s = await waitStatus('t1', 'VERIFY_RESIZE');
  assert.match(String(s.flavor), /^m1\.medium \(/);
  await demo.osRaw('server', 'resize', 'revert', 't1');
  s = await waitStatus('t1', 'ACTIVE');
  assert.match(String(s.flavor), /^m1\.small \(/, 'revert restores the old flavor');
  assert.equal(power(s), POWER.RUNNING);
});

test('server image create (snapshot) becomes an active image of the server', async () => {
  const img = await demo.os('server', 'image', 'create', '--name', 'e2e-snap', '--wait', 't1');
  assert.equal(img.name, 'e2e-snap');
  const shown = await demo.os('image', 'show', 'e2e-snap');
  assert.equal(shown.status, 'active');
  assert.equal(shown.properties.image_type, 'snapshot');
  assert.equal(shown.properties.instance_uuid, ids.t1);
  assert.ok((await demo.os<Array<{ Name: string }>>('image', 'list')).some((i) => i.Name === 'e2e-snap'));
  assert.equal((await waitStatus('t1', 'ACTIVE')).status, 'ACTIVE');
});

test('lock refuses the owner\'s actions with Nova\'s message; unlock', async () => {
  await demo.osRaw('server', 'lock', '--os-compute-api-version', '2.73', '--reason', 'maintenance', 't1');
  let s = await demo.os('server', 'show', '--os-compute-api-version', '2.73', 't1');
  assert.equal(s.locked, true);
  assert.equal(s.locked_reason, 'maintenance');
  const r = await demo.osFails('server', 'stop', 't1');
  assert.match(r.stderr, new RegExp(`Instance ${ids.t1} is locked \\(HTTP 409\\)`));
  assert.equal((await demo.os('server', 'show', 't1')).status, 'ACTIVE', 'the refused stop changed nothing');
  await demo.osRaw('server', 'unlock', 't1');
  s = await demo.os('server', 'show', '--os-compute-api-version', '2.73', 't1');
  assert.equal(s.locked, false);
});

test('rebuild (client waits) keeps the server, its name and its address', async () => {
  const s = await demo.os<Shown>('server', 'rebuild', '--image', cloud.image, '--wait', 't1');
  assert.equal(s.id, ids.t1);
  const after = await waitStatus('t1', 'ACTIVE');
  assert.equal(after.name, 't1');
  assert.deepEqual(ipsOf(after.addresses, cloud.network), [ids.t1ip]);
  assert.equal(power(after), POWER.RUNNING);
});

test('server backup create --rotate 2, three times, leaves the two newest backups', async () => {
  for (const n of [1, 2, 3]) {
    const img = await demo.os('server', 'backup', 'create', '--name', `e2e-backup-${n}`, '--type', 'daily', '--rotate', '2', '--wait', 't1');
    assert.equal(img.name, `e2e-backup-${n}`);
    // the rotation runs after the snapshot, in the same action: done once the server has no task
    await waitStatus('t1', 'ACTIVE');
  }
  const names = (await demo.os<Array<{ Name: string }>>('image', 'list')).map((i) => i.Name).filter((n) => n.startsWith('e2e-backup-'));
  assert.deepEqual(names.sort(), ['e2e-backup-2', 'e2e-backup-3']);
  const shown = await demo.os('image', 'show', 'e2e-backup-3');
  assert.equal(shown.status, 'active');
  assert.equal(shown.properties.image_type, 'backup');
  assert.equal(shown.properties.backup_type, 'daily');
  assert.equal(shown.properties.instance_uuid, ids.t1);
});

test('server shelve (offloaded at once) and unshelve: the guest boots again with the same address; the snapshot goes', async () => {
  await demo.osRaw('server', 'shelve', 't1');
  await waitStatus('t1', 'SHELVED_OFFLOADED');
  const off = await admin.os('server', 'show', ids.t1);
  assert.equal(off['OS-EXT-SRV-ATTR:host'], null, 'offloaded: no host');
  assert.equal((await demo.os('image', 'show', 't1-shelved')).status, 'active');
  // the server's address stays while it is shelved
  assert.deepEqual(ipsOf((await demo.os('server', 'show', 't1')).addresses, cloud.network), [ids.t1ip]);
  // openstack skips servers already shelved; nova asks, and gets Nova's 409
  await assert.rejects(demo.nova('shelve', 't1'), new RegExp(`Cannot 'shelve' instance ${ids.t1} while it is in vm_state shelved_offloaded`));
  await demo.osRaw('server', 'unshelve', 't1');
  const s = await waitStatus('t1', 'ACTIVE');
  assert.equal(power(s), POWER.RUNNING);
  assert.deepEqual(ipsOf(s.addresses, cloud.network), [ids.t1ip]);
  assert.ok((await admin.os('server', 'show', ids.t1))['OS-EXT-SRV-ATTR:host'], 'scheduled onto a host again');
  const gone = await demo.osFails('image', 'show', 't1-shelved');
  assert.match(gone.stderr, /No Image found|Could not find resource|No image/i);
});

test('nova: list, show, lock, and (admin) reset-state', async () => {
  const rows = parseTable(await demo.nova('list'));
  const row = rows.find((r) => r.Name === 't1')!;
  assert.equal(row.Status, 'ACTIVE');
  assert.equal(row['Power State'], 'Running');
  assert.equal(row.Networks, `${cloud.network}=${ids.t1ip}`);
  let shown = parseProperties(await demo.nova('show', 't1'));
  assert.equal(shown.id, ids.t1);
  assert.equal(shown.status, 'ACTIVE');
  assert.equal(shown.locked, 'False');
  assert.equal(shown[`${cloud.network} network`], ids.t1ip);
  await demo.nova('lock', 't1');
  assert.equal(parseProperties(await demo.nova('show', 't1')).locked, 'True');
  await demo.nova('unlock', 't1');
  // reset-state is the admin's; the demo user gets Nova's policy refusal
  await assert.rejects(demo.nova('reset-state', ids.t1), /Unable to reset the state/);
  assert.equal((await demo.os('server', 'show', 't1')).status, 'ACTIVE', 'the refused reset changed nothing');
  assert.match(await admin.nova('reset-state', ids.t1), /new state is error/);
  assert.equal((await demo.os('server', 'show', 't1')).status, 'ERROR');
  assert.match(await admin.nova('reset-state', '--active', ids.t1), /new state is active/);
  shown = parseProperties(await demo.nova('show', 't1'));
  assert.equal(shown.status, 'ACTIVE');
  assert.equal(shown['OS-EXT-STS:task_state'], '-');
});

test('server event list: one record per action, with its request id', async () => {
  const events = await demo.os<Array<{ Action: string; 'Request ID': string }>>('server', 'event', 'list', 't1');
  const actions = events.map((e) => e.Action);
  for (const a of ['create', 'stop', 'start', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'resize', 'confirmResize',
    'revertResize', 'createImage', 'lock', 'unlock', 'rebuild', 'resetState', 'createBackup', 'shelve', 'unshelve']) {
    assert.ok(actions.includes(a), `${a} missing from ${actions.join(',')}`);
  }
  // the refused stop (locked) left no record: exactly one stop
  assert.equal(actions.filter((a) => a === 'stop').length, 1);
  for (const e of events) assert.match(e['Request ID'], /^req-[0-9a-f-]{36}$/);
  const one = await demo.os('server', 'event', 'show', 't1', events.find((e) => e.Action === 'create')!['Request ID']);
  assert.equal(one.action, 'create');
});

test('delete to the recycle bin, restore, delete for good', async (t) => {
  if (!cloud.softDelete) { t.skip('this cloud deletes immediately (no reclaim interval)'); return; }
  await demo.osRaw('server', 'delete', 't2');
  // the soft delete powers the guest off first (ACPI on a real guest: seconds)
  await waitStatus('t2', 'SOFT_DELETED');
  const listed = await demo.os<Array<Record<string, string>>>('server', 'list', '--name', '^t2$');
  assert.equal(listed[0]?.Status, 'SOFT_DELETED');
  await demo.osRaw('server', 'restore', 't2');
  await waitStatus('t2', 'ACTIVE');
  // --force skips the recycle bin; --wait returns once the server is gone
  await demo.osRaw('server', 'delete', '--force', '--wait', 't2');
  assert.deepEqual(await demo.os('server', 'list', '--name', '^t2$'), []);
  const r = await demo.osFails('server', 'show', 't2');
  assert.match(r.stderr, /No server with a name or ID of 't2' exists/);
});

test('openstacksdk: create_server, wait_for_server, stop, delete (force) and wait_for_delete', async () => {
  const out = await demo.sdk(`
img = conn.image.find_image(${JSON.stringify(cloud.image)})
flavor = conn.compute.find_flavor('m1.tiny')
net = conn.network.find_network(${JSON.stringify(cloud.network)})
s = conn.compute.create_server(name='sdk1', image_id=img.id, flavor_id=flavor.id, networks=[{'uuid': net.id}])
emit({'id': s.id})
s = conn.compute.wait_for_server(s, status='ACTIVE', wait=${Math.round(timeoutMs() / 1000)}, interval=1)
emit({'status': s.status, 'power_state': s.power_state, 'addresses': s.addresses, 'flavor': s.flavor.name if s.flavor else None})
conn.compute.stop_server(s)
s = conn.compute.wait_for_server(s, status='SHUTOFF', wait=${Math.round(timeoutMs() / 1000)}, interval=1)
emit({'status': s.status, 'power_state': s.power_state})
conn.compute.delete_server(s, force=True)
conn.compute.wait_for_delete(s, wait=${Math.round(timeoutMs() / 1000)}, interval=1)
emit({'gone': conn.compute.find_server('sdk1') is None})
`);
  assert.match(out[0].id, /^[0-9a-f-]{36}$/);
  assert.equal(out[1].status, 'ACTIVE');
  assert.equal(out[1].power_state, POWER.RUNNING);
  assert.equal(out[1].flavor, 'm1.tiny');
  assert.match(out[1].addresses[cloud.network][0].addr, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(out[2].status, 'SHUTOFF');
  assert.equal(out[2].power_state, POWER.SHUTDOWN);
  assert.deepEqual(out[3], { gone: true });
});

test('tenant networks: network create, subnet create, port create --fixed-ip, security group rule create; a server on the port, port list --server, server add/remove port, add network, add fixed ip', async (t) => {
  const net = await demo.os('network', 'create', 'e2e-net');
  assert.equal(net.name, 'e2e-net');
  assert.equal(net.mtu, 1450);
  const sub = await demo.os('subnet', 'create', '--network', 'e2e-net', '--subnet-range', '192.168.77.0/24', '--dns-nameserver', '192.168.77.1', 'e2e-sub');
  assert.equal(sub.cidr, '192.168.77.0/24');
  assert.equal(sub.gateway_ip, '192.168.77.1');
  const port = await demo.os('port', 'create', '--network', 'e2e-net', '--fixed-ip', 'subnet=e2e-sub,ip-address=192.168.77.50', 'e2e-port');
  assert.match(JSON.stringify(port.fixed_ips), /192\.168\.77\.50/);
  const dup = await demo.osFails('port', 'create', '--network', 'e2e-net', '--fixed-ip', 'subnet=e2e-sub,ip-address=192.168.77.50', 'e2e-dup');
  assert.match(dup.stderr, /already allocated/);
  const rule = await demo.os('security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--ingress', 'default');
  assert.equal(rule.port_range_min, 22);
  assert.equal(rule.direction, 'ingress');
  const rules = await demo.os<Array<Record<string, unknown>>>('security', 'group', 'rule', 'list', 'default');
  assert.ok(rules.some((r) => r['Port Range'] === '22:22'), JSON.stringify(rules));
  // a server on the tenant network needs the agent side of tenant networks: the fake hosts have it, the all-in-one not yet
  if (cloud.kind === 'real') { t.diagnostic('server on a tenant network: fake cloud only until the agent carries tenant networks'); return; }
  const n1 = await demo.os<Shown>('server', 'create', '--image', cloud.image, '--flavor', 'm1.tiny', '--port', 'e2e-port', '--wait', 'n1');
  assert.deepEqual(ipsOf(n1.addresses, 'e2e-net'), ['192.168.77.50']);
  const ports = await demo.os<Array<Record<string, unknown>>>('port', 'list', '--server', 'n1');
  assert.deepEqual(ports.map((p) => p.Name), ['e2e-port']);
  await demo.os('port', 'create', '--network', 'e2e-net', 'e2e-port2');
  await demo.osRaw('server', 'add', 'port', 'n1', 'e2e-port2');
  assert.equal((await demo.os<Array<Record<string, unknown>>>('port', 'list', '--server', 'n1')).length, 2);
  assert.equal(ipsOf((await demo.os('server', 'show', 'n1')).addresses, 'e2e-net').length, 2);
  await demo.osRaw('server', 'remove', 'port', 'n1', 'e2e-port2');
  for (let i = 0; i < 100 && (await demo.os<Array<Record<string, unknown>>>('port', 'list', '--server', 'n1')).length !== 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await demo.os<Array<Record<string, unknown>>>('port', 'list', '--server', 'n1')).length, 1);
  // server add network / add fixed ip: compute makes the ports (deleted with the server)
  await demo.osRaw('server', 'add', 'network', 'n1', 'e2e-net');
  await demo.osRaw('server', 'add', 'fixed', 'ip', '--fixed-ip-address', '192.168.77.60', 'n1', 'e2e-net');
  const nics = await demo.os<Array<Record<string, unknown>>>('port', 'list', '--server', 'n1');
  assert.equal(nics.length, 3);
  assert.ok(ipsOf((await demo.os('server', 'show', 'n1')).addresses, 'e2e-net').includes('192.168.77.60'));
  const busy = await demo.osFails('network', 'delete', 'e2e-net');
  assert.match(busy.stderr, /ports still in use|NetworkInUse|409/);
  await demo.osRaw('server', 'delete', '--force', '--wait', 'n1');
  // the port passed in is kept, unbound
  assert.equal((await demo.os('port', 'show', 'e2e-port')).device_id, '');
  await demo.osRaw('port', 'delete', 'e2e-port', 'e2e-port2');
  await demo.osRaw('network', 'delete', 'e2e-net');
});

test('clients see Nova\'s refusals: admin actions 403, unknown server', async () => {
  const r = await demo.osFails('server', 'migrate', 't1');
  assert.match(r.stderr, /HTTP 403/);
  const nf = await demo.osFails('server', 'show', 'no-such-server');
  assert.match(nf.stderr, /No server with a name or ID of 'no-such-server' exists/);
  assert.equal((await demo.os('server', 'show', 't1')).status, 'ACTIVE');
});

test('admin view: the compute service is up; all-projects list shows the demo servers with their host', async () => {
  const [services, all] = await Promise.all([
    admin.os<Array<Record<string, string>>>('compute', 'service', 'list'),
    admin.os<Array<Record<string, string>>>('server', 'list', '--all-projects', '--long'),
  ]);
  assert.ok(services.length > 0 && services.every((s) => s.Binary === 'nova-compute' && s.State === 'up' && s.Status === 'enabled'), JSON.stringify(services));
  const t1 = all.find((s) => s.ID === ids.t1);
  assert.ok(t1, 'admin sees the demo project\'s server');
  assert.ok(services.some((s) => s.Host === t1.Host), `t1 runs on a listed host (${t1.Host})`);
});

test('admin: endpoint list matches the catalog; role assignment list --names', async () => {
  const [endpoints, catalog, assignments] = await Promise.all([
    admin.os<Array<Record<string, string>>>('endpoint', 'list'),
    demo.os<Array<{ Type: string; Endpoints: unknown }>>('catalog', 'list'),
    admin.os<Array<Record<string, string>>>('role', 'assignment', 'list', '--user', 'demo', '--project', 'demo', '--names'),
  ]);
  const compute = endpoints.find((e) => e['Service Type'] === 'compute');
  assert.ok(compute, JSON.stringify(endpoints));
  assert.equal(compute.Interface, 'public');
  assert.match(compute.URL!, /\/v2\.1$/);
  assert.ok(JSON.stringify(catalog.find((c) => c.Type === 'compute')?.Endpoints).includes(compute.URL!), 'the user\'s catalog names the same compute URL');
  assert.deepEqual(assignments.map((a) => [a.Role, a.User, a.Project]), [['member', 'demo@Default', 'demo@Default']]);
});

test('usage: openstack usage show and nova usage (which pages until empty) count the same servers', async () => {
  const [shown, novaOut] = await Promise.all([
    demo.os<{ Servers: Array<{ instance_id: string; name: string; state: string }>; 'CPU Hours': number }>('usage', 'show'),
    demo.nova('usage'),
  ]);
  const names = shown.Servers.map((s) => s.name);
  assert.ok(names.includes('t1') && names.includes('t2'), names.join(','));
  assert.equal(shown.Servers.find((s) => s.name === 't2')!.state, 'terminated');
  assert.ok(shown['CPU Hours'] > 0);
  const [row] = parseTable(novaOut);
  assert.equal(Number(row!.Servers), shown.Servers.length);
});

/**
 * The cloud the end-to-end tests talk to, through a clouds.yaml only (clouds `novalet` = demo user/project,
 * `novalet-admin` = admin), so that the same tests run against:
 *   - 'fake' (default): the controller in this process on 127.0.0.1:<free port> with the fake driver;
 *   - 'real' (NOVALET_E2E_CLOUD=real): an all-in-one started by `novalet up` (see real-cloud.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SqliteStore } from '../../../src/store/index.js';
import { buildControllerApp } from '../../../src/api/app.js';
import { defaultConfig, PREFIX } from '../../../src/controller/config.js';
import { FakeHosts } from '../../support/fake-hosts.js';
import { bootstrapIdentity } from '../../../src/controller/identity/bootstrap.js';
import { seedFlavors } from '../../../src/controller/compute/seed.js';
import { startRealCloud } from './real-cloud.js';
import { cloudsYaml } from '../../../src/cli/up/clouds-yaml.js';
import { freePort } from '../../support/ports.js';

export interface Cloud {
  kind: 'fake' | 'real';
  /** path of the clouds.yaml with clouds `novalet` and `novalet-admin` */
  cloudsYaml: string;
  /** a public image servers boot from, and the network they attach to */
  image: string;
  network: string;
  /** DELETE moves servers to the recycle bin (a reclaim interval is configured), so restore works */
  softDelete: boolean;
  close(): Promise<void>;
}

export const GUEST_IMAGE = 'novalet-guest';
export const NETWORK = 'private';

export function startCloud(): Promise<Cloud> {
  const kind = process.env.NOVALET_E2E_CLOUD ?? 'fake';
  if (kind === 'real') return startRealCloud();
  if (kind !== 'fake') throw new Error(`NOVALET_E2E_CLOUD=${kind}: expected fake or real`);
  return startFakeCloud();
}


/**
 * The controller as `novalet controller` wires it (README "Wiring"), on a SQLite file in a temporary directory,
 * with fake hosts behind the real task engine and scheduler (each host operation takes `driverDelayMs`, so BUILD and task states are visible).
 */
export async function startFakeCloud(driverDelayMs = 300): Promise<Cloud> {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-e2e-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const store = new SqliteStore(join(dir, 'controller.db'));
  const cfg = defaultConfig({ publicUrl, imageDir: join(dir, 'images'), reclaimIntervalSeconds: 3600,
    // one fake host, as `novalet up`: a resize stays on it
    allowResizeToSameHost: true });
  const app = buildControllerApp(cfg, store, new FakeHosts(driverDelayMs, cfg.imageDir), { periodic: false });
  const passwords = { admin: 'admin-e2e-pw', demo: 'demo-e2e-pw' };
  await bootstrapIdentity(app.novalet.identity, passwords);
  await seedFlavors(store);
  const images = app.novalet.images;
  const img = await images.create(null, { name: GUEST_IMAGE, visibility: 'public', diskFormat: 'qcow2', containerFormat: 'bare' });
  await images.upload(null, img.id, Readable.from([Buffer.alloc(64 * 1024, 7)]));
  // the fake host reports in as an agent would, so it stays up (resize and os-services look at that)
  const beat = async () => {
    await app.novalet.compute.hosts.heartbeat('fake-host', { vcpus: 16, memoryMb: 32768, diskGb: 200, hostIp: '127.0.0.1' });
    await app.novalet.compute.placement.refresh();
  };
  await beat();
  const heartbeat = setInterval(() => { void beat().catch(() => undefined); }, 10_000);
  await app.novalet.compute.recover();
  await app.listen({ host: '127.0.0.1', port });
  const path = join(dir, 'clouds.yaml');
  writeFileSync(path, cloudsYaml(`${publicUrl}${PREFIX.identity}/v3`, cfg.region, [
    { cloud: 'novalet', username: 'demo', password: passwords.demo, project: 'demo' },
    { cloud: 'novalet-admin', username: 'admin', password: passwords.admin, project: 'admin' },
  ]), { mode: 0o600 });
  return {
    kind: 'fake', cloudsYaml: path, image: GUEST_IMAGE, network: NETWORK, softDelete: true,
    close: async () => {
      clearInterval(heartbeat);
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

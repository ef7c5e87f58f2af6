import { mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_CONFIG as AGENT_DEFAULTS, type AgentConfig } from '../agent/config.js';
import { DEFAULT_NETWORK, PREFIX } from '../controller/config.js';
import { startControllerProcess } from './controller-process.js';
import { DEFAULT_SCHEDULER_CONFIG } from '../controller/scheduler/scheduler.js';
import { exitOnSignals } from './shutdown.js';
import { parseArgs, parseListen, positiveNumber, str } from './args.js';
import { startAgentProcess } from './agent-command.js';
import { cloudsYaml } from './up/clouds-yaml.js';
import { seedGuestImages } from './up/guest-images.js';
import { ensureNatNetwork, type NatNetwork } from './up/nat-network.js';
import { fileSecret } from './up/secrets.js';
import { initPki, issueAgentCert } from './pki.js';

export const UP_USAGE = `usage: novalet up [--data-dir DIR] [--listen ADDR:PORT] [--agent-listen ADDR:PORT] [--libvirt-uri URI]
                  [--guest-dir DIR] [--network-name NAME --network-cidr A.B.C.0/24] [--reclaim-interval SECONDS]
                  [--cpu-allocation-ratio R] [--log-level LEVEL] [--rbd POOL:USER:CONF:KEYRING]
  the all-in-one on this host: libvirt NAT network 'novalet-private' (10.0.0.0/24), a local agent and the controller
  in this process, admin + demo accounts, flavors, the test guest image; writes DIR/clouds.yaml (clouds novalet and
  novalet-admin). Default DIR /var/lib/novalet, API on 127.0.0.1:8774, agent RPC on 127.0.0.1:8779.
  --cpu-allocation-ratio: vCPUs scheduled per host CPU (Nova's cpu_allocation_ratio; default 4.0).
  --rbd: also the Ceph RBD volume backend (volume types with volume_backend_name=rbd), e.g. from scripts/ceph.sh:
         volumes:novalet:DIR/ceph.conf:DIR/ceph.client.novalet.keyring`;

/** --rbd POOL:USER:CONF:KEYRING -> volumes.rbd */
function rbdFlag(v: string | undefined): { rbd?: { pool: string; user: string; conf: string; keyring: string } } {
  if (v === undefined) return {};
  const [pool, user, conf, keyring] = v.split(':');
  if (!pool || !user || !conf || !keyring) throw new Error(`--rbd: expected POOL:USER:CONF:KEYRING, got ${v}`);
  return { rbd: { pool, user, conf, keyring } };
}

/** the default network: libvirt NAT network `novalet-private` on bridge novalet0, 10.0.0.0/24 */
export function allInOneNetwork(name = 'novalet-private', cidr = '10.0.0.0/24'): NatNetwork & { cidr: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.0\/24$/.exec(cidr);
  if (!m) throw new Error(`--network-cidr: expected a /24 like 10.0.0.0/24, got ${cidr}`);
  const net = `${m[1]}.${m[2]}.${m[3]}`;
  const bridge = name === 'novalet-private' ? 'novalet0' : `nv-${name.replace(/^novalet-?/, '')}`.slice(0, 15);
  return { name, bridge, cidr, gateway: `${net}.1`, prefix: 24, dhcpStart: `${net}.2`, dhcpEnd: `${net}.254` };
}

/**
 * `novalet up`: everything an all-in-one needs, in one foreground process (SIGTERM/SIGINT stop it; guests keep
 * running and are found again by the next start). The only place with single-host assumptions.
 */
export async function upCommand(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv);
  if (flags['help']) { console.log(UP_USAGE); return; }
  const dataDir = str(flags, 'data-dir') ?? '/var/lib/novalet';
  const listen = parseListen(str(flags, 'listen') ?? '127.0.0.1:8774');
  const agentListen = parseListen(str(flags, 'agent-listen') ?? '127.0.0.1:8779');
  const libvirtUri = str(flags, 'libvirt-uri') ?? AGENT_DEFAULTS.libvirtUri;
  const guestDir = str(flags, 'guest-dir') ?? '/var/cache/novalet/guest';
  const log = pino({ level: str(flags, 'log-level') ?? 'info', base: { svc: 'novalet-up', pid: process.pid } });
  const cpuAllocationRatio = positiveNumber(flags, 'cpu-allocation-ratio') ?? DEFAULT_SCHEDULER_CONFIG.cpuAllocationRatio;

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = fileSecret(join(dataDir, 'cluster-secret'), 32);
  const passwords = { admin: fileSecret(join(dataDir, 'admin-password')), demo: fileSecret(join(dataDir, 'demo-password')) };

  const network = allInOneNetwork(str(flags, 'network-name'), str(flags, 'network-cidr'));
  await ensureNatNetwork(libvirtUri, network);
  // controller and agent speak mutual TLS with certificates of the installation's own CA (made once, kept)
  const pkiDir = join(dataDir, 'pki');
  const pki = await initPki(pkiDir);
  const listenIp = isIP(agentListen.host) && agentListen.host !== '0.0.0.0' && agentListen.host !== '::' ? [agentListen.host] : [];
  const agentCert = await issueAgentCert(pkiDir, { name: 'local', ips: [...new Set(['127.0.0.1', ...listenIp])], dns: ['localhost'] });
  const agentConfig: AgentConfig = {
    ...AGENT_DEFAULTS, dataDir: join(dataDir, 'agent'), runDir: join(dataDir, 'run'), libvirtUri,
    listenHost: agentListen.host, listenPort: agentListen.port, secret, logLevel: str(flags, 'log-level') ?? 'info',
    tls: { cert: agentCert.cert, key: agentCert.key, clientCa: pki.ca },
  };
  const agent = await startAgentProcess(agentConfig, secret, log.child({ component: 'agent' }));
  const controller = await startControllerProcess({
    dataDir: join(dataDir, 'controller'), listenHost: listen.host, listenPort: listen.port, secret, passwords, log,
    agents: [{ url: agent.url, local: true }],
    agentTls: { ca: pki.ca, cert: pki.controller.cert, key: pki.controller.key },
    heartbeatIntervalMs: 5000,
    scheduler: { ...DEFAULT_SCHEDULER_CONFIG, cpuAllocationRatio },
    config: {
      networks: [{ ...DEFAULT_NETWORK, cidr: network.cidr, gateway: network.gateway, libvirtNetwork: network.name }],
      // > 0: DELETE moves servers to the recycle bin for that long (Nova's reclaim_instance_interval; default off)
      reclaimIntervalSeconds: Number(str(flags, 'reclaim-interval') ?? 0),
      // file volumes: one directory the all-in-one's host sees (shared storage in a real cluster)
      volumes: { dir: join(dataDir, 'volumes'), ...rbdFlag(str(flags, 'rbd')) },
      // one host: a resize can only stay on it (devstack's single node sets allow_resize_to_same_host too)
      allowResizeToSameHost: true,
    },
  });
  const imageId = await seedGuestImages(controller.store, controller.app.novalet.images, guestDir);
  const clouds = join(dataDir, 'clouds.yaml');
  writeFileSync(clouds, cloudsYaml(`${controller.url}${PREFIX.identity}/v3`, controller.cfg.region, [
    { cloud: 'novalet', username: 'demo', password: passwords.demo, project: 'demo' },
    { cloud: 'novalet-admin', username: 'admin', password: passwords.admin, project: 'admin' },
  ]), { mode: 0o600 });
  log.info({ url: controller.url, clouds, image: imageId, agent: agent.url, recovered: controller.recovered }, 'novalet up: ready');

  exitOnSignals(log, 'novalet up (guests keep running)', async () => {
    await controller.close().catch((err: unknown) => log.error({ err }, 'controller close failed'));
    await agent.close();
  });
}

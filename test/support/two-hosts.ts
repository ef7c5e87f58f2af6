/** A harness with two fake hosts (`fake-host` and `host-b`) for the tests of moves between hosts. */
import type { ControllerConfig } from '../../src/controller/config.js';
import { createHarness, type Harness } from './harness.js';
import type { Store } from '../../src/store/index.js';

export const TWO_HOSTS = ['fake-host', 'host-b'];

/** host-b reports in and the scheduler sees it */
export async function addHostB(h: Harness): Promise<void> {
  await h.app.novalet.compute.hosts.heartbeat('host-b', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.2' });
  await h.app.novalet.compute.placement.refresh();
}

/** a harness on two hosts; a resize may not stay on its host unless `over` says so */
export async function twoHosts(over: Partial<ControllerConfig> = {}): Promise<Harness> {
  const h = await createHarness({ allowResizeToSameHost: false, ...over });
  await addHostB(h);
  return h;
}

/** the server's host, as an admin sees it */
export async function hostOf(h: Harness, id: string): Promise<string> {
  return (await h.req(h.tokens.admin, 'GET', `/compute/v2.1/servers/${id}`, undefined, '2.47')).json().server['OS-EXT-SRV-ATTR:host'] as string;
}

/** a new 1 GiB volume (of `volumeType` when given) attached to the server through the API: its id and device */
export async function attachNewVolume(h: Harness, serverId: string, volumeType?: string): Promise<{ volumeId: string; device: string }> {
  const r = await h.app.inject({ method: 'POST', url: `/volume/v3/${h.ids.demoProject}/volumes`, headers: { 'x-auth-token': h.tokens.demo },
    payload: { volume: { size: 1, ...(volumeType ? { volume_type: volumeType } : {}) } } });
  if (r.statusCode !== 202) throw new Error(`volume create: ${r.statusCode} ${r.body}`);
  const volumeId = r.json().volume.id as string;
  await h.app.novalet.compute.volumes.idle();
  const a = await h.req(h.tokens.demo, 'POST', `/compute/v2.1/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } }, '2.79');
  if (a.statusCode !== 200) throw new Error(`volume attach: ${a.statusCode} ${a.body}`);
  await h.idle();
  return { volumeId, device: a.json().volumeAttachment.device as string };
}

/** the other of the two hosts */
export const otherHost = (host: string): string => TWO_HOSTS.find((x) => x !== host)!;

/** an admin's evacuate (2.53, no target) of a server whose host is down: 200, and the server ends ACTIVE on the other host */
export async function evacuateToOther(h: Harness<Store>, id: string, source: string): Promise<void> {
  const r = await h.req(h.tokens.admin, 'POST', `/compute/v2.1/servers/${id}/action`, { evacuate: {} }, '2.53');
  if (r.statusCode !== 200) throw new Error(`evacuate: ${r.statusCode} ${r.body}`);
  await h.idle();
  const s = (await h.req(h.tokens.admin, 'GET', `/compute/v2.1/servers/${id}`, undefined, '2.47')).json().server;
  if (s.status !== 'ACTIVE' || s['OS-EXT-SRV-ATTR:host'] !== otherHost(source)) throw new Error(`after evacuate: ${s.status} on ${s['OS-EXT-SRV-ATTR:host']}`);
}

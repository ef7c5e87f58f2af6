/**
 * os-getConsoleOutput: a read, not a task (no state change, no instance action, no lock check). As Nova's
 * compute API: the server must have a host (else InstanceNotReady, 409) and not be being deleted or migrated;
 * the host reads the last lines of its console log (at most 100 KiB); the answer drops the control characters
 * Nova's API drops ([\x00-\x08\x0B-\x1F]: \t and \n stay, \r goes).
 */
import type { Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { ApiError, conflict, invalidState, notFound } from '../errors.js';
import { HostCallError, type HostTransport } from '../hosts/transport.js';
import { serverFor } from './access.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0B-\x1F]/g;

/** Nova's compute API: @reject_instance_state(task_state=[DELETING, MIGRATING]) */
const REFUSED_TASKS: ReadonlyArray<string | null> = ['deleting', 'migrating'];

export const stripControl = (s: string): string => s.replace(CONTROL, '');

export class ConsoleService {
  constructor(private readonly store: Store, private readonly hosts: HostTransport) {}

  /** `length`: the number of last lines, null = all (-1 is turned into null by the API) */
  async output(ctx: RequestContext, id: string, length: number | null): Promise<string> {
    const s = await serverFor(this.store, ctx, id);
    if (!s.host) throw conflict(`Instance ${s.id} is not ready`);
    if (REFUSED_TASKS.includes(s.taskState)) throw invalidState('get_console_output', s.id, 'task_state', s.taskState);
    try {
      return stripControl(await this.hosts.consoleOutput(s.host, s.id, length));
    } catch (err) {
      if (!(err instanceof HostCallError)) throw err;
      // Nova: ConsoleNotAvailable -> 404; a compute host that does not answer -> the instance is not ready (409)
      if (err.code === 'unknown_server') throw notFound('Guest does not have a console available.');
      if (err.code === 'unavailable') throw conflict(`Instance ${s.id} is not ready: compute host ${s.host} is not reachable`);
      throw new ApiError('conflict', `Console output of instance ${s.id} is not available: ${err.message}`);
    }
  }
}

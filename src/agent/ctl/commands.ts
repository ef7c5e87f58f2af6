import { AgentError } from '../../rpc/errors.js';
import { PROTOCOL } from '../../rpc/protocol/version.js';
import { operationView, type Agent } from '../agent.js';

export const CTL_COMMANDS = ['status', 'list', 'show', 'events', 'drain', 'undrain', 'reconcile'] as const;
export type CtlCommand = (typeof CTL_COMMANDS)[number];

export interface CtlRequest {
  cmd: CtlCommand;
  args?: string[];
}

/** One-shot ctl commands (events is streamed by the server itself). */
export async function runCtlCommand(agent: Agent, req: CtlRequest): Promise<unknown> {
  const { journal } = agent.deps;
  switch (req.cmd) {
    case 'status': {
      const servers = journal.listServers();
      const count = (f: (s: (typeof servers)[number]) => boolean): number => servers.filter(f).length;
      return {
        protocol: PROTOCOL,
        pid: process.pid,
        startedAt: agent.startedAt,
        drained: agent.runner.drained,
        // the fencing lease: seconds since a controller's last heartbeat poll, and why new work is refused (null: it is not)
        fencingLease: { leaseSec: agent.deps.config.controllerLeaseSec ?? 0, sinceControllerSec: agent.lease.sinceContactSec(), refusing: agent.lease.refusal() },
        dataDir: agent.deps.config.dataDir,
        listen: `${agent.deps.config.listenHost}:${agent.deps.config.listenPort}`,
        domainType: agent.deps.domainType,
        journalSchema: journal.schemaVersion(),
        servers: { total: servers.length, running: count((s) => s.power === 'running'), busy: count((s) => s.task !== null), error: count((s) => s.status === 'error') },
        operationsInFlight: agent.runner.busyServers().length,
        unfinishedInJournal: journal.listUnfinished().length,
        unknownDomains: agent.power.unknownDomains().length,
        rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
      };
    }
    case 'list':
      return agent.listServers();
    case 'show': {
      const uuid = req.args?.[0];
      if (!uuid) throw new AgentError('bad_request', 'usage: show <uuid>');
      const { server } = agent.getServer(uuid);
      const ops = journal.listOperations(uuid, 50).map((o) => ({ ...operationView(o), steps: journal.steps(o.id) }));
      let domain: unknown = null;
      try { domain = await agent.deps.hv.getDomain(uuid); } catch (err) { domain = { error: (err as Error).message }; }
      return { server, domain, operations: ops };
    }
    case 'drain':
      agent.runner.drained = true;
      agent.deps.events.emit({ type: 'agent', message: 'drained: new work refused' });
      return { drained: true };
    case 'undrain':
      agent.runner.drained = false;
      agent.deps.events.emit({ type: 'agent', message: 'undrained' });
      return { drained: false };
    case 'reconcile': {
      const recovered = await agent.reconcile();
      return { recovered, unknownDomains: agent.power.unknownDomains().map((d) => ({ uuid: d.uuid, name: d.name, power: d.power })) };
    }
    case 'events':
      return agent.deps.events.since(0).slice(-50);
    default:
      throw new AgentError('bad_request', `unknown command ${String((req as { cmd: unknown }).cmd)}; try: ${CTL_COMMANDS.join(', ')}`);
  }
}

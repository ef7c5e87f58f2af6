import { AGENT_USAGE, agentCommand } from './agent-command.js';
import { CTL_USAGE, ctlCommand } from './ctl-command.js';
import { ConfigError } from '../common/config-file.js';
import { novaletVersion } from '../common/version.js';
import { PROTOCOL } from '../rpc/protocol/version.js';

const USAGE = `usage: novalet <command>   (up | testbed | controller | agent | ctl | hosts | user | project | role | db | sim-hosts | pki | version)\n\n${AGENT_USAGE}\n\n${CTL_USAGE}`;

/** Entry point of `novalet` (bin/novalet.js). Nothing imports this module. */
async function main(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'agent':
      await agentCommand(rest);
      return undefined; // keeps running
    case 'ctl':
      return ctlCommand(rest);
    case 'controller': await (await import('./controller-command.js')).controllerCommand(rest); return undefined; // keeps running
    case 'up': await (await import('./up-command.js')).upCommand(rest); return undefined; // keeps running
    case 'testbed': return (await import('./testbed-command.js')).testbedCommand(rest);
    case 'user': case 'project': case 'role': return (await import('./identity-command.js')).identityCommand([cmd, ...rest]);
    case 'db': return (await import('./db-command.js')).dbCommand(rest);
    case 'pki': return (await import('./pki-command.js')).pkiCommand(rest);
    case 'hosts': return (await import('./hosts-command.js')).hostsCommand(rest);
    case 'sim-hosts': await (await import('./sim-command.js')).simCommand(rest); return undefined; // keeps running
    case 'version':
    case '--version':
      console.log(`novalet ${novaletVersion()} (agent protocol ${PROTOCOL}, node ${process.version})`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command ${cmd}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== undefined) process.exitCode = code; },
  // a bad config file is the operator's to fix: its message, no stack
  (err: unknown) => { console.error(err instanceof ConfigError ? `novalet: ${err.message}` : err instanceof Error ? err.stack ?? err.message : err); process.exit(1); },
);

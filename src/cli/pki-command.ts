/** `novalet pki init --dir DIR` and `novalet pki issue --dir DIR --agent NAME --ip IP[,IP] [--dns NAME[,NAME]]` (src/cli/pki.ts). */
import { parseArgs, str } from './args.js';
import { initPki, issueAgentCert } from './pki.js';

export const PKI_USAGE = `usage: novalet pki init [--dir DIR]                         the cluster CA + the controller's client certificate
       novalet pki issue [--dir DIR] --agent NAME --ip IP[,IP...] [--dns NAME[,NAME...]]   an agent's server certificate
  DIR defaults to /etc/novalet/pki. Agent: "tls": {"cert": DIR/agent-NAME.pem, "key": DIR/agent-NAME-key.pem,
  "clientCa": DIR/ca.pem}; controller: "agentTls": {"ca": DIR/ca.pem, "cert": DIR/controller.pem, "key": DIR/controller-key.pem}`;

export async function pkiCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { flags } = parseArgs(rest, []);
  const dir = str(flags, 'dir') ?? '/etc/novalet/pki';
  const list = (k: string) => (str(flags, k) ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  switch (sub) {
    case 'init': {
      const r = await initPki(dir);
      console.log(JSON.stringify({ ca: r.ca, controllerCert: r.controller.cert, controllerKey: r.controller.key }));
      return 0;
    }
    case 'issue': {
      const name = str(flags, 'agent');
      if (!name) { console.error(PKI_USAGE); return 2; }
      const r = await issueAgentCert(dir, { name, ips: list('ip'), dns: list('dns') });
      console.log(JSON.stringify({ cert: r.cert, key: r.key, clientCa: r.ca }));
      return 0;
    }
    default:
      console.error(PKI_USAGE);
      return 2;
  }
}

/**
 * Runs the host's network tools (ip, bridge, nft, sysctl, dnsmasq) with an argument vector, no shell. With
 * `netns` every command runs inside that network namespace (`ip netns exec`): the tests realise two "hosts" as
 * two namespaces on one machine. A non-zero exit is an Error carrying the command and its stderr.
 */
import { spawn } from 'node:child_process';

export interface HostExec {
  /** runs the program; rejects on a non-zero exit; `input` is written to stdin */
  run(file: string, args: readonly string[], input?: string): Promise<string>;
  /** starts a program that daemonizes itself (dnsmasq): output not captured, resolves when the parent exits 0 */
  daemon(file: string, args: readonly string[]): Promise<void>;
  /** the network namespace commands run in (absent: the agent's own) */
  readonly netns?: string | undefined;
}

export class CommandError extends Error {
  constructor(readonly command: string, readonly exitCode: number | null, readonly stderr: string) {
    super(`${command} failed (${exitCode ?? 'signal'}): ${stderr.trim().slice(0, 500)}`);
    this.name = 'CommandError';
  }
}

export function hostExec(netns?: string, timeoutMs = 30_000): HostExec {
  return {
    netns,
    daemon(file, args) {
      const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, file, ...args]] as const : [file, args] as const;
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, argv, { stdio: 'ignore' });
        child.on('error', (e) => reject(new CommandError(`${file} ${args.join(' ')}`, null, e.message)));
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new CommandError(`${file} ${args.join(' ')}`, code, 'see the system log'))));
      });
    },
    run(file, args, input) {
      const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, file, ...args]] as const : [file, args] as const;
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        child.on('error', (e) => { clearTimeout(timer); reject(new CommandError(`${file} ${args.join(' ')}`, null, e.message)); });
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
          else reject(new CommandError(`${file} ${args.join(' ')}`, code, Buffer.concat(err).toString('utf8')));
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(input ?? '');
      });
    },
  };
}

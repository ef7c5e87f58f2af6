/**
 * The agent a move's files come from (a cold migration's instance files, a live migration's config drive): its
 * RPC client with the cluster secret, and its failures as this operation's errors.
 */
import { AgentClient, RpcError } from '../../rpc/client.js';
import { AgentError } from '../../rpc/errors.js';
import { readSecret, type AgentConfig } from '../config.js';

export function sourceAgent(config: AgentConfig, url: string): AgentClient {
  return new AgentClient({ url, secret: readSecret(config), timeoutMs: 120_000 });
}

/** an RPC failure of the source as this operation's error (unreachable source: retriable by the controller) */
export function sourceError(err: unknown): unknown {
  if (!(err instanceof RpcError)) return err;
  return new AgentError(err.code === 'unavailable' ? 'internal' : err.code, `migration source: ${err.message}`);
}

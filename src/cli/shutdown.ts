import type { Logger } from 'pino';

/**
 * SIGTERM / SIGINT run `close` once, then exit 0. Long-running commands (agent, controller, up, sim-hosts) stop
 * accepting work this way; guests are never touched.
 */
export function exitOnSignals(log: Logger, what: string, close: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${what} stopping`);
    await close().catch((err: unknown) => log.error({ err }, `${what}: close failed`));
    log.info(`${what} stopped`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

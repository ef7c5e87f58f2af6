/** An action handler: validated by its own schema, answers with its own status (Nova differs per action). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';

export type ActionHandler = (a: { req: FastifyRequest; reply: FastifyReply; id: string; body: unknown; d: ComputeDeps }) => Promise<unknown>;
export type ActionTable = Record<string, ActionHandler>;
